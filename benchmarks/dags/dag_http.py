"""Import-cost DAG: the same 7 tasks written with the HTTP provider's HttpOperator and HttpSensor."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.http.operators.http import HttpOperator
from airflow.providers.http.sensors.http import HttpSensor
from airflow.sdk import DAG

BASE = "/api/v2/destinations"
HEADERS = {"Content-Type": "application/json", "LD-API-Version": "20240415"}
SETUP = f"{BASE}/projects/bench/environments/production/kinds/snowflake-v2"

with DAG(dag_id="bench_import_http", start_date=datetime(2026, 1, 1), schedule=None, catchup=False) as dag:
    setup = HttpOperator(
        task_id="setup",
        http_conn_id="launchdarkly_http",
        endpoint=f"{SETUP}/setup",
        data='{"name": "warehouse"}',
        headers=HEADERS,
    )
    complete = HttpOperator(
        task_id="complete",
        http_conn_id="launchdarkly_http",
        endpoint=f"{SETUP}/complete-setup",
        data='{"publicKey": "{{ ti.xcom_pull(\'setup\') }}"}',
        headers=HEADERS,
    )
    wait = HttpSensor(
        task_id="wait",
        http_conn_id="launchdarkly_http",
        endpoint=BASE,
        headers=HEADERS,
        response_check=lambda response: "warehouse" in response.text,
        deferrable=True,
    )
    turn_on = HttpOperator(
        task_id="turn_on",
        http_conn_id="launchdarkly_http",
        method="PATCH",
        endpoint=f"{BASE}/bench/production/{{{{ ti.xcom_pull('complete') }}}}",
        data='[{"op": "replace", "path": "/on", "value": true}]',
        headers=HEADERS,
    )
    create = HttpOperator(
        task_id="create",
        http_conn_id="launchdarkly_http",
        endpoint=f"{BASE}/bench/production",
        data='{"kind": "segment", "name": "events", "config": {"writeKey": "{{ var.value.key }}"}}',
        headers=HEADERS,
    )
    update = HttpOperator(
        task_id="update",
        http_conn_id="launchdarkly_http",
        method="PATCH",
        endpoint=f"{BASE}/bench/production/{{{{ ti.xcom_pull('create') }}}}",
        data='[{"op": "replace", "path": "/config/writeKey", "value": "{{ var.value.key2 }}"}]',
        headers=HEADERS,
    )
    delete = HttpOperator(
        task_id="delete",
        http_conn_id="launchdarkly_http",
        method="DELETE",
        endpoint=f"{BASE}/bench/production/{{{{ ti.xcom_pull('create') }}}}",
        headers=HEADERS,
    )
    setup >> complete >> wait >> turn_on
    create >> update >> delete
