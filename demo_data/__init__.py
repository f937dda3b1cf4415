"""Deterministic demo histories (banking + orders) with planted anomalies, and fixtures."""
