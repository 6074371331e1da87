"""Thin Lambda entry points: parse, call the logic, report."""
