"""Each rule's pattern (the files Terraform and the router share) matches what it should.

Matching is moto's EventBridge implementation (``moto.events.models.EventPattern``), not
ours, so these tests check our JSON against EventBridge semantics.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from batchops.config import load_settings
from batchops.events import MODEL_QUALITY_STEP, load_pattern, pattern_names, pattern_values

from . import events as ev


def matcher(name: str, env: str) -> EventPattern:
    return EventPattern.load(json.dumps(load_pattern(name, pattern_values(load_settings(env)))))


def matches(name: str, env: str, event: dict[str, Any]) -> bool:
    return matcher(name, env).matches_event(event)


def test_every_pattern_file_renders_for_every_environment() -> None:
    assert len(pattern_names()) == 7
    for name in pattern_names():
        for env in ("data-science", "staging", "production"):
            assert matcher(name, env).get_pattern()["source"]


def test_approval_pattern_matches_only_approved_versions_of_our_group() -> None:
    assert matches("approval-to-deploy", "data-science", ev.model_package("Approved"))
    for status in ("PendingManualApproval", "Rejected"):
        assert not matches("approval-to-deploy", "data-science", ev.model_package(status))
    assert not matches("approval-to-deploy", "data-science", ev.model_package(group="other"))
    assert not matches("approval-to-deploy", "data-science", ev.step("RegisterModel", "Succeeded"))


def test_notification_pattern_matches_our_pipelines_step_and_execution_changes() -> None:
    assert matches(
        "pipeline-status-to-notify",
        "data-science",
        ev.step("RegisterModel", "Succeeded", account=ev.DS, pipeline="batchops-training"),
    )
    assert matches("pipeline-status-to-notify", "data-science", ev.execution("Failed"))
    assert matches(
        "pipeline-status-to-notify",
        "production",
        ev.step("CheckDataQuality", "Executing", account=ev.PRODUCTION),
    )
    assert not matches(
        "pipeline-status-to-notify",
        "data-science",
        ev.step("Train", "Failed", account=ev.DS, pipeline="someone-elses"),
    )
    # another account's pipeline of the same name is not ours to report here
    assert not matches(
        "pipeline-status-to-notify", "staging", ev.step("Train", "Failed", account=ev.PRODUCTION)
    )


def test_retrain_pattern_matches_failed_model_quality_steps_of_any_account() -> None:
    for account in (ev.STAGING, ev.PRODUCTION):
        assert matches(
            "model-quality-failed-to-retrain",
            "data-science",
            ev.step(MODEL_QUALITY_STEP, "Failed", account=account),
        )
    assert not matches(
        "model-quality-failed-to-retrain", "data-science", ev.step(MODEL_QUALITY_STEP, "Succeeded")
    )
    assert not matches(
        "model-quality-failed-to-retrain", "data-science", ev.step("CheckDataQuality", "Failed")
    )
    assert not matches(
        "model-quality-failed-to-retrain",
        "data-science",
        ev.step(MODEL_QUALITY_STEP, "Failed", pipeline="batchops-training"),
    )


def test_forwarding_pattern_sends_only_this_accounts_model_quality_failures() -> None:
    failed = ev.step(MODEL_QUALITY_STEP, "Failed", account=ev.PRODUCTION)
    assert matches("model-quality-failed-to-data-science-bus", "production", failed)
    assert not matches("model-quality-failed-to-data-science-bus", "staging", failed)
    assert not matches(
        "model-quality-failed-to-data-science-bus",
        "production",
        ev.step(MODEL_QUALITY_STEP, "Executing", account=ev.PRODUCTION),
    )


@pytest.mark.parametrize(
    ("name", "env", "prefix_attr", "suffix"),
    [
        (
            "training-data-to-training-pipeline",
            "data-science",
            "training_data_prefix",
            "training-data.csv",
        ),
        (
            "inference-data-to-inference-pipeline",
            "staging",
            "inference_data_prefix",
            "inference-data.csv",
        ),
    ],
)
def test_data_patterns_match_only_new_data_under_their_prefix(
    name: str, env: str, prefix_attr: str, suffix: str
) -> None:
    settings = load_settings(env)
    prefix = getattr(settings, prefix_attr)
    bucket = settings.bucket_name
    assert matches(name, env, ev.object_created(bucket, f"{prefix}{suffix}"))
    assert matches(name, env, ev.object_created(bucket, f"{prefix}2026/01/05/{suffix}"))
    assert not matches(name, env, ev.object_created(bucket, f"unrelated/{suffix}"))
    assert not matches(name, env, ev.object_created(bucket, f"{prefix}notes.txt"))
    assert not matches(name, env, ev.object_created("another-bucket", f"{prefix}{suffix}"))
