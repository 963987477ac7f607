"""What a deployment writes must fit its columns: checked before anything is written, so a process id, a process
name or a file name too long is a problem naming the file, element and line (and a ``--user`` too long is bad
input), never a database error after the checks have passed. The limits are read from the models' column types.

The deployment's name, when made up from its process keys, and its source (the paths given) are labels: they are
shortened to fit, with an ellipsis.
"""
from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from engine import limits
from engine.errors import Problem
from engine.models import Deployment, DeploymentResource, ProcessDefinition

B = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
KEY_MAX = limits.column_length(ProcessDefinition.key)
PROCESS_NAME_MAX = limits.column_length(ProcessDefinition.name)
RESOURCE_NAME_MAX = limits.column_length(DeploymentResource.name, ProcessDefinition.resource_name)
DEPLOYMENT_NAME_MAX = limits.column_length(Deployment.name)
SOURCE_MAX = limits.column_length(Deployment.source)
DEPLOYED_BY_MAX = limits.column_length(Deployment.deployed_by)


def problems(file_names: list[str], roots: Mapping[str, etree._Element]) -> list[Problem]:
    """A problem for each file name, executable process id or process name longer than its column holds."""
    found = [Problem(name, f"the file's name (with its folder) is {len(name)} characters: at most "
                           f"{RESOURCE_NAME_MAX}; shorten it")
             for name in file_names if len(name) > RESOURCE_NAME_MAX]
    for name, root in roots.items():
        for process in root.findall(f"{B}process"):
            if process.get("isExecutable") != "true":
                continue
            key, title = process.get("id") or "", process.get("name") or ""
            if len(key) > KEY_MAX:
                found.append(Problem(name, f"the process id is {len(key)} characters: at most {KEY_MAX}",
                                     element_id=key[:40] + "…", line=process.sourceline))
            if len(title) > PROCESS_NAME_MAX:
                found.append(Problem(name, f"the process name is {len(title)} characters: at most {PROCESS_NAME_MAX}",
                                     element_id=key, line=process.sourceline))
    return found


def label(text: str | None, limit: int) -> str | None:
    """``text`` shortened to ``limit`` characters, ending in an ellipsis when it was longer."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"
