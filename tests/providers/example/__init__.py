"""A test-only provider, "Example Stamps", added the way docs/adding-a-provider.md says: this
one package (connector, wire structs, error map, simulator, provider declaration) and one
registry line (``registry.register(PROVIDER)`` in the contract tests)."""
