"""spaCy components of the note and criteria pipelines, registered with @Language.factory."""
