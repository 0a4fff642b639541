"""Adapters that collect facts from a framework or the environment into a RunRecord.

Each module here may import its framework; none imports rdflib.
"""
