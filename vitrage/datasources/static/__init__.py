"""Entities and relationships described by operators in YAML files."""
