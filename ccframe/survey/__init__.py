"""The virtual survey: simulated clusters answer the survey paper's questionnaire.

The measurement layer joins the two seeds. A :class:`~ccframe.survey.snapshot.Snapshot`
freezes what a respondent of a simulated cluster can see (its own state, its trading
partners', the cluster's); :mod:`ccframe.survey.signals` names the quantities an item can
be answered from; :class:`~ccframe.survey.instrument.Questionnaire` (the mechanism slot
``survey``, config group ``conf/survey/``) maps each item C1..C29 to one of them, samples
respondents in the paper's mix, adds respondent noise and cuts five-point answers;
:mod:`ccframe.survey.world` simulates the clusters, fields the survey and fits the SEM;
:mod:`ccframe.survey.report` sets the result beside the paper's Tables 6, 7 and 9 with the
SEM layer's checks and tables (:mod:`ccframe.sem.checks`, :mod:`ccframe.sem.report`).
See docs/ODD.md, "Observation: the virtual survey".
"""
