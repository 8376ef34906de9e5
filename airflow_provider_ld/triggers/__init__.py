"""Triggers that wait for LaunchDarkly in Airflow's triggerer."""
