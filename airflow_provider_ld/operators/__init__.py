"""Operators for LaunchDarkly Data Export destinations."""
