"""The grounded chat: retrieval of sources, a `ChatModel` provider, tools on the tenant's data,
citations checked against the sources sent, and the history of each conversation."""
