"""Sensors that wait for LaunchDarkly state."""
