"""Reporters: text, JSON, SARIF, GitHub; configuration, suppressions, rule docs."""
