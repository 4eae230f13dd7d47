"""Loading user configs (YAML/TOML) together with their source positions."""
