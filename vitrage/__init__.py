"""Vitrage: root cause analysis for clouds."""
