"""
``ld-destinations`` and ``python -m airflow_provider_ld.fleet``: the destinations command line.

Results go to standard output; anything Airflow logs while it loads goes to standard error, so
``ld-destinations plan --json > plan.json`` holds only the plan. Nothing from Airflow is imported
before standard output is set aside.
"""

import sys


def run() -> None:
    """Run the command line and exit with its code."""
    results = sys.stdout
    sys.stdout = sys.stderr
    try:
        from airflow_provider_ld.fleet.cli import main

        code = main(stdout=results)
    finally:
        sys.stdout = results
    raise SystemExit(code)


if __name__ == "__main__":
    run()
