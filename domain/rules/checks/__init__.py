"""The rules checks of a character document, one module per area; run by `validation.validate`."""
