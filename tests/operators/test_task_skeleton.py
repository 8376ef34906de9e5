"""What every LaunchDarkly task shares: one skeleton for the operators, the manifest operators and the sensor."""

from __future__ import annotations

import pytest

from airflow_provider_ld.exceptions import LaunchDarklyNotFoundError
from airflow_provider_ld.links import DESTINATION_URL_XCOM_KEY, destination_ui_url
from airflow_provider_ld.operators.destinations import (
    LaunchDarklyCompleteWarehouseSetupOperator,
    LaunchDarklyCreateDestinationOperator,
    LaunchDarklyDeleteDestinationOperator,
    LaunchDarklyToggleDestinationOperator,
    LaunchDarklyUpdateDestinationOperator,
    LaunchDarklyWarehouseSetupOperator,
)
from airflow_provider_ld.operators.fleet import (
    LaunchDarklyApplyDestinationsOperator,
    LaunchDarklyPlanDestinationsOperator,
)
from airflow_provider_ld.sensors.destinations import LaunchDarklyDestinationConfiguredSensor
from airflow_provider_ld.task import UI_COLOR, LaunchDarklyTaskMixin

TASKS = (
    LaunchDarklyCreateDestinationOperator,
    LaunchDarklyUpdateDestinationOperator,
    LaunchDarklyToggleDestinationOperator,
    LaunchDarklyDeleteDestinationOperator,
    LaunchDarklyWarehouseSetupOperator,
    LaunchDarklyCompleteWarehouseSetupOperator,
    LaunchDarklyPlanDestinationsOperator,
    LaunchDarklyApplyDestinationsOperator,
    LaunchDarklyDestinationConfiguredSensor,
)


@pytest.mark.parametrize("task_class", TASKS, ids=lambda cls: cls.__name__)
def test_every_task_shares_the_skeleton(task_class):
    assert issubclass(task_class, LaunchDarklyTaskMixin)
    assert "launchdarkly_conn_id" in task_class.template_fields
    assert task_class.ui_color == UI_COLOR
    for name in ("hook", "render_template_fields", "on_kill", "close_hook", "linked", "closing"):
        assert getattr(task_class, name) is getattr(LaunchDarklyTaskMixin, name), name


def test_the_hook_is_closed_and_the_link_pushed_even_when_the_task_fails(emulator, ld_connection):
    class TI:
        def __init__(self) -> None:
            self.pushed: dict[str, object] = {}

        def xcom_push(self, key: str, value: object) -> None:
            self.pushed[key] = value

    ti = TI()
    op = LaunchDarklyToggleDestinationOperator(
        task_id="t", project_key="proj", environment_key="prod", destination_id="missing1", on=True
    )
    with pytest.raises(LaunchDarklyNotFoundError):
        op.execute({"ti": ti})
    assert ti.pushed == {DESTINATION_URL_XCOM_KEY: destination_ui_url(emulator.base_url, "proj", "prod")}
    assert "session" not in op.hook.__dict__, "the hook's connections are closed"


def test_killing_a_manifest_task_stops_its_request(emulator, ld_connection):
    op = LaunchDarklyPlanDestinationsOperator(task_id="plan", manifest={"destinations": []})
    op.hook.session  # noqa: B018 - open the session, as a running task has
    op.on_kill()
    assert op.hook.aborted
    assert "session" not in op.hook.__dict__
