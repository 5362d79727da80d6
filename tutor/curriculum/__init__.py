"""The course the tutor teaches: schemas, loaders and validation for `knowledge/`."""
