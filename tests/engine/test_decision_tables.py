"""Business rule tasks follow the DMN hit policies (UNIQUE and ANY refuse ambiguity, RULE ORDER and COLLECT give
lists, COLLECT aggregates), their outputs replace variables instead of being merged into them, no match sets the
outputs to None, and deploy refuses the tables SpiffWorkflow would misread, naming the file, element and line."""
from __future__ import annotations

import pytest

from engine import db, instances, queries
from engine.errors import DeploymentRefused
from tests.bpmn_builder import end, linear, process, start, user_task
from tests.conftest import deploy_files

TWO_MATCH = [(["&gt; 1"], ['"a"']), (["&gt; 2"], ['"b"'])]


def table(hit_policy, rules, outputs=("o",), inputs=("x",), aggregation="", extra=""):
    """A DMN file with one decision 'dec'; rules are (input entries, output entries)."""
    ins = "".join(f'<input id="in{k}"><inputExpression id="ie{k}"><text>{e}</text></inputExpression></input>'
                  for k, e in enumerate(inputs))
    outs = "".join(f'<output id="out{k}" name="{n}"/>' for k, n in enumerate(outputs))
    rows = "".join(f'<rule id="rule{r}">' + "".join(f'<inputEntry id="r{r}i{k}"><text>{t}</text></inputEntry>'
                                                   for k, t in enumerate(ie))
                   + "".join(f'<outputEntry id="r{r}o{k}"><text>{t}</text></outputEntry>' for k, t in enumerate(oe))
                   + "</rule>" for r, (ie, oe) in enumerate(rules))
    policy = f' hitPolicy="{hit_policy}"' if hit_policy else ""
    agg = f' aggregation="{aggregation}"' if aggregation else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
            'id="D" name="d" namespace="x">\n'
            f'<decision id="dec" name="d"><decisionTable id="t"{policy}{agg}>{ins}{outs}{rows}</decisionTable></decision>'
            f'{extra}\n</definitions>\n').encode()


def deploy(factory, dmn):
    rule_task = ("d", '<bpmn:businessRuleTask id="d" camunda:decisionRef="dec"/>')
    return deploy_files(factory, [("p.bpmn", process(linear(start(), rule_task, user_task("u"), end()))),
                                  ("d.dmn", dmn)])


def run(factory, operator, dmn, variables):
    deploy(factory, dmn)
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "p", variables).row.id
    with db.transaction(factory) as s:
        return queries.instance_detail(s, iid)


@pytest.mark.parametrize("policy, expected", [("FIRST", "a"), ("RULE ORDER", ["a", "b"]), ("COLLECT", ["a", "b"])])
def test_hit_policies_that_take_several_matches(factory, operator, policy, expected):
    found = run(factory, operator, table(policy, TWO_MATCH), {"x": 5})
    assert found["variables"]["o"] == expected and not found["incidents"]


@pytest.mark.parametrize("policy, words", [("UNIQUE", "hit policy UNIQUE, but rules 1, 2 all match"),
                                           (None, "hit policy UNIQUE"),  # UNIQUE is DMN's default
                                           ("ANY", "give different outputs")])
def test_unique_and_any_with_conflicting_matches_are_an_incident(factory, operator, policy, words):
    found = run(factory, operator, table(policy, TWO_MATCH), {"x": 5})
    (incident,) = found["incidents"]
    assert incident["activityId"] == "d" and words in incident["incidentMessage"]
    assert "o" not in found["variables"]


def test_any_with_agreeing_matches_gives_their_output(factory, operator):
    found = run(factory, operator, table("ANY", [(["&gt; 1"], ['"a"']), (["&gt; 2"], ['"a"'])]), {"x": 5})
    assert found["variables"]["o"] == "a" and not found["incidents"]


@pytest.mark.parametrize("aggregation, expected", [("SUM", 7), ("MIN", 3), ("MAX", 4), ("COUNT", 2)])
def test_collect_aggregates(factory, operator, aggregation, expected):
    rules = [(["&gt; 1"], ["3"]), (["&gt; 2"], ["4"]), (["&gt; 9"], ["100"])]
    found = run(factory, operator, table("COLLECT", rules, aggregation=aggregation), {"x": 5})
    assert found["variables"]["o"] == expected


@pytest.mark.parametrize("policy, rules, before, expected", [
    ("COLLECT", [(["&gt; 1"], ["5"]), (["&gt; 2"], ["5"])], [1, 2, 3], [5, 5]),  # was [1, 2]
    ("FIRST", [(["-"], ["[5, 5, 6]"])], [1, 2, 3], [5, 5, 6]),  # was [1, 2, 3]
    ("FIRST", [(["-"], ['{"a": 1}'])], {"b": 2}, {"a": 1}),  # was {"b": 2, "a": 1}
])
def test_an_output_replaces_the_variable_instead_of_merging_into_it(factory, operator, policy, rules, before, expected):
    found = run(factory, operator, table(policy, rules), {"x": 5, "o": before})
    assert found["variables"]["o"] == expected


@pytest.mark.parametrize("policy, aggregation, expected", [("FIRST", "", None), ("COLLECT", "", []),
                                                           ("COLLECT", "SUM", None), ("COLLECT", "COUNT", 0)])
def test_no_matching_rule_sets_the_outputs_to_nothing(factory, operator, policy, aggregation, expected):
    found = run(factory, operator, table(policy, TWO_MATCH, aggregation=aggregation), {"x": 0, "o": "stale"})
    assert found["variables"]["o"] == expected and not found["incidents"]


def test_a_dotted_output_sets_a_key_of_a_dict(factory, operator):
    found = run(factory, operator, table("FIRST", [(["-"], ["1"])], outputs=("phi.tong",)),
                {"x": 1, "phi": {"giam": 2}})
    assert found["variables"]["phi"] == {"giam": 2, "tong": 1}


@pytest.mark.parametrize("dmn, element, words", [
    (table("PRIORITY", TWO_MATCH), "t", "hit policy PRIORITY is not supported"),
    (table("OUTPUT ORDER", TWO_MATCH), "t", "hit policy OUTPUT ORDER is not supported"),
    (table("FIRST", TWO_MATCH, aggregation="SUM"), "t", "needs the hit policy COLLECT"),
    (table("COLLECT", [(["-"], ["1", "2"])], outputs=("a", "b"), aggregation="SUM"), "t", "table of one output"),
    (table("FIRST", [(["-"], ["1"])], outputs=("",)), "out0", "this output has no name"),
    (table("FIRST", [(["-"], ["1", "2"])], outputs=("o", "o")), "out1", "two outputs set the variable 'o'"),
    (table("FIRST", [(["-", "-"], ["1"])]), "rule0", "rule 1 has 2 input and 1 output entries"),
    (table("FIRST", TWO_MATCH, extra='<decision id="other" name="o"><decisionTable id="t2"/></decision>'), "other",
     "holds one decision"),
])
def test_tables_spiffworkflow_would_misread_are_refused_at_deploy(factory, dmn, element, words):
    with pytest.raises(DeploymentRefused) as err:
        deploy(factory, dmn)
    problems = [p for p in err.value.problems if p.severity == "error"]
    assert any(p.file == "d.dmn" and p.element_id == element and p.line and words in p.message for p in problems), \
        problems


def test_a_decision_requirement_is_refused_at_deploy(factory):
    requirement = ('<decision id="dec" name="d"><informationRequirement id="ir"><requiredDecision href="#base"/>'
                   '</informationRequirement>')
    with pytest.raises(DeploymentRefused) as err:
        deploy(factory, table("FIRST", TWO_MATCH).replace(b'<decision id="dec" name="d">', requirement.encode()))
    assert any("decision requirements are not followed" in p.message and p.line for p in err.value.problems)


def test_an_output_that_cannot_be_stored_is_an_incident(factory, operator):
    found = run(factory, operator, table("FIRST", [(["-"], ["range(2)"])]), {"x": 1})
    (incident,) = found["incidents"]
    assert incident["activityId"] == "d" and "'o' holds an object of type range" in incident["incidentMessage"]


def run_into(factory, operator, dmn, variables, attributes):
    """Like run, with Camunda's result variable attributes on the business rule task."""
    rule_task = ("d", f'<bpmn:businessRuleTask id="d" camunda:decisionRef="dec" {attributes}/>')
    deploy_files(factory, [("p.bpmn", process(linear(start(), rule_task, user_task("u"), end()))), ("d.dmn", dmn)])
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "p", variables).row.id
    with db.transaction(factory) as s:
        return queries.instance_detail(s, iid)


TWO_OUTPUTS = [(["&gt; 1"], ['"a"', "1"]), (["&gt; 2"], ['"b"', "2"])]


@pytest.mark.parametrize("policy, how, outputs, rules, expected", [
    ("FIRST", "singleEntry", ("o",), TWO_MATCH, "a"),
    ("FIRST", "singleResult", ("o", "n"), TWO_OUTPUTS, {"o": "a", "n": 1}),
    ("COLLECT", "collectEntries", ("o",), TWO_MATCH, ["a", "b"]),
    ("COLLECT", "resultList", ("o", "n"), TWO_OUTPUTS, [{"o": "a", "n": 1}, {"o": "b", "n": 2}]),
    ("COLLECT", None, ("o",), TWO_MATCH, [{"o": "a"}, {"o": "b"}]),  # Camunda's default mapping: resultList
    ("FIRST", "singleEntry", ("o",), [(["&gt; 9"], ['"z"'])], None),  # no rule matches
    ("COLLECT", "collectEntries", ("o",), [(["&gt; 9"], ['"z"'])], []),
])
def test_a_result_variable_gets_the_result_mapped_as_camunda_maps_it(factory, operator, policy, how, outputs, rules,
                                                                       expected):
    mapping = f' camunda:mapDecisionResult="{how}"' if how else ""
    found = run_into(factory, operator, table(policy, rules, outputs=outputs), {"x": 5},
                     f'camunda:resultVariable="fee"{mapping}')
    assert found["variables"]["fee"] == expected and not found["incidents"]
    assert not set(outputs) & set(found["variables"])  # the outputs go to the result variable alone, as in Camunda


@pytest.mark.parametrize("how, outputs, rules, words", [
    ("singleEntry", ("o", "n"), TWO_OUTPUTS, "mapDecisionResult singleEntry needs a table with one output"),
    ("singleResult", ("o",), TWO_MATCH, "mapDecisionResult singleResult needs at most one result, but 2 rules match")])
def test_a_result_that_does_not_fit_its_mapping_is_an_incident(factory, operator, how, outputs, rules, words):
    found = run_into(factory, operator, table("COLLECT", rules, outputs=outputs), {"x": 5},
                     f'camunda:resultVariable="fee" camunda:mapDecisionResult="{how}"')
    (incident,) = found["incidents"]
    assert incident["activityId"] == "d" and words in incident["incidentMessage"]


@pytest.mark.parametrize("attributes, words", [
    ('camunda:resultVariable="fee" camunda:mapDecisionResult="singleValue"', "'singleValue' is not one of singleEntry"),
    ('camunda:resultVariable="${fee}"', "camunda:resultVariable '${fee}' must be a variable name"),
    ('camunda:mapDecisionResult="singleEntry"', "which is not set")])
def test_result_mapping_attributes_the_engine_cannot_use_are_refused_at_deploy(factory, attributes, words):
    rule_task = ("d", f'<bpmn:businessRuleTask id="d" camunda:decisionRef="dec" {attributes}/>')
    with pytest.raises(DeploymentRefused) as refused:
        deploy_files(factory, [("p.bpmn", process(linear(start(), rule_task, user_task("u"), end()))),
                               ("d.dmn", table("FIRST", TWO_MATCH))])
    assert "[d]" in str(refused.value) and words in str(refused.value)
