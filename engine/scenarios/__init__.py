"""Scenario tests an analyst writes beside a diagram (``processes/<p>/scenarios/*.yaml``) and motcua runs.

A scenario starts a dossier at a moment of its choosing, plays each officer's task, each worker's result
(or runs the real worker), each message and each move of the clock, and says what it expects: the path,
the dossier status, the variables. :mod:`model` reads the files, :mod:`runner` plays them on a database of
their own, :mod:`coverage` tells which elements and flows no scenario reached.
"""
from engine.scenarios.model import Scenario, ScenarioFileError, load_scenarios
from engine.scenarios.runner import ProcedureRun, ScenarioResult, run_procedure

__all__ = ["Scenario", "ScenarioFileError", "load_scenarios", "ProcedureRun", "ScenarioResult", "run_procedure"]
