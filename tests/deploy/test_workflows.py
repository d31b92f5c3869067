"""Who can make the CD workflow run which code. `workflow_run` runs with this repository's token and secrets whatever
triggered the CI run it follows, and its `branches: [main]` filter matches the head branch by name only: a fork's
pull request from a branch called `main` passes it. The job's condition is evaluated here, as the runner does, for
the events that can reach it."""

import pytest
import yaml

from tests.support import REPO_ROOT
from tests.support.github_expressions import UnsupportedExpression, evaluate, truthy

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
REPOSITORY = "spam-service/spam-service"
FORK = "evil/spam-service"


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as true
    return workflow


@pytest.fixture(scope="module")
def cd() -> dict:
    return load("cd.yml")


def after_ci(*, event: str, head_repo: str, head_branch: str = "main", conclusion: str = "success") -> dict:
    """The contexts of a CD run that a completed CI run triggered."""
    return {
        "github": {
            "event_name": "workflow_run",
            "repository": REPOSITORY,
            "event": {
                "workflow_run": {
                    "conclusion": conclusion,
                    "event": event,
                    "head_branch": head_branch,
                    "head_sha": "0" * 40,
                    "head_repository": {"full_name": head_repo},
                }
            },
        }
    }


def direct(event_name: str) -> dict:
    return {"github": {"event_name": event_name, "repository": REPOSITORY, "event": {}}}


def runs(job: dict, contexts: dict) -> bool:
    return "if" not in job or truthy(evaluate(str(job["if"]), contexts))


def test_the_expression_evaluator_follows_githubs_rules():
    contexts = {"github": {"repository": "Owner/Repo", "event": {"n": 0}}}
    assert evaluate("github.repository == 'owner/repo'", contexts) is True  # strings compare case-insensitively
    assert evaluate("github.event.missing.deeper", contexts) is None
    assert evaluate("github.event.missing || 'fallback'", contexts) == "fallback"
    assert evaluate("!(github.event.n == 0) && 'x'", contexts) is False
    assert evaluate("github.event.missing == ''", contexts) is True  # null and '' both compare as 0
    with pytest.raises(UnsupportedExpression):
        evaluate("startsWith(github.repository, 'o')", contexts)


def test_cd_follows_the_ci_workflow_by_its_name(cd):
    assert cd["on"]["workflow_run"]["workflows"] == [load("ci.yml")["name"]]
    assert cd["on"]["workflow_run"]["types"] == ["completed"]


# (case, contexts, whether CD runs). A fork's pull request cannot make a `push` event nor name this repository as its
# head repository; a tag's push has the tag as its head branch.
TRIGGERS = [
    ("CI passed on a push to main here", after_ci(event="push", head_repo=REPOSITORY), True),
    ("CI failed on a push to main here", after_ci(event="push", head_repo=REPOSITORY, conclusion="failure"), False),
    ("a fork's pull request from its branch main", after_ci(event="pull_request", head_repo=FORK), False),
    ("a pull request from a branch of this repository", after_ci(event="pull_request", head_repo=REPOSITORY), False),
    ("a push of a tag here", after_ci(event="push", head_repo=REPOSITORY, head_branch="v1.2.0"), False),
    ("nightly", direct("schedule"), True),
    ("on demand", direct("workflow_dispatch"), True),
]


@pytest.mark.parametrize(("contexts", "expected"), [t[1:] for t in TRIGGERS], ids=[t[0] for t in TRIGGERS])
def test_cd_runs_only_for_this_repositorys_own_pushes_to_main_nightly_and_on_demand(cd, contexts, expected):
    assert {name: runs(job, contexts) for name, job in cd["jobs"].items()} == dict.fromkeys(cd["jobs"], expected)


def test_cd_checks_out_the_tested_commit_without_keeping_the_token_and_never_interpolates_event_text(cd):
    for job in cd["jobs"].values():
        [checkout] = [step for step in job["steps"] if step.get("uses", "").startswith("actions/checkout@")]
        # The commit CI tested, by SHA (a branch name would be whatever the branch holds by now).
        assert checkout["with"]["ref"] == "${{ github.event.workflow_run.head_sha || github.sha }}"
        # The stack's build and the functional check are repository code: no git credential left for them.
        assert checkout["with"]["persist-credentials"] is False
        for step in job["steps"]:
            # Branch names and commit messages are attacker-chosen text: never spliced into a shell script.
            assert "github.event" not in step.get("run", ""), step.get("name")
