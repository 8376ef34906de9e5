"""Import-cost DAG: the same 7 tasks as plain PythonOperators (the baseline every DAG pays)."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def call_api(step: str) -> str:
    """Stand-in for the API call each task would make (never run at parse time)."""
    return step


with DAG(dag_id="bench_import_python", start_date=datetime(2026, 1, 1), schedule=None, catchup=False) as dag:
    tasks = {
        step: PythonOperator(task_id=step, python_callable=call_api, op_args=[step])
        for step in ("setup", "complete", "wait", "turn_on", "create", "update", "delete")
    }
    tasks["setup"] >> tasks["complete"] >> tasks["wait"] >> tasks["turn_on"]
    tasks["create"] >> tasks["update"] >> tasks["delete"]
