"""The top of the house: the ``weather-warehouse`` command and the local demo (``make run``).

It may import every layer below it (``service``, ``ingest_job``, ``warehouse``);
nothing below imports it.
"""
