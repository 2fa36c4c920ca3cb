"""HTTP handlers of the standard endpoints; each module registers its routes with ``setup(app)``."""
