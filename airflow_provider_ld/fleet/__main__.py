"""``python -m airflow_provider_ld.fleet``: the ``ld-destinations`` command line."""

from airflow_provider_ld.fleet.cli import main

raise SystemExit(main())
