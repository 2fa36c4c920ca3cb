"""Built-in provider plugins of connector-host (registered like third-party ones, see ``host.plugins``)."""
