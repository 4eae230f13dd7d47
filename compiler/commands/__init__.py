"""The commands: each chooses its inputs, calls the runner and picks a reporter."""
