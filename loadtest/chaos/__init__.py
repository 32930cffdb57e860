"""The chaos suite (``python -m loadtest chaos``, ``make chaos``): faults injected into a
local mesh under open-loop checkout load, then the books checked through the services'
own APIs.

``mesh`` starts the mesh under test (the runner's ``LocalMesh``, restarts on, orders
reaching each dependency through a ``relay``); ``faults`` lists what is injected;
``scenario`` runs one fault's phase; ``checkout`` and ``books`` are the clients (the load,
and the reads the ``invariants`` need); ``suite`` runs every variant; ``report`` prints
the table. docs/RELIABILITY.md has the results.
"""
