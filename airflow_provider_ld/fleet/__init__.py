"""
Destinations as code: a manifest of the destinations many projects and environments should have,
with plan, apply, drift detection and export (``ld-destinations`` on the command line).
"""
