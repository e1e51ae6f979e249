"""``billdrift listen``: a small HTTP server that takes provider webhooks as triggers.

A webhook says "look at this customer", never "this is the truth": the event is
verified, stored on disk and acknowledged at once; a worker then re-fetches the
customer's subscriptions and checks their accounts with the usual rules
(:mod:`billdrift.usecases.listening`, :mod:`billdrift.usecases.targeted`).
This package is only the HTTP front-end (Starlette on uvicorn, the ``listen``
extra, in a receiving process of its own: :mod:`.receiver`) and the processes
around it: start, serve, stop cleanly on SIGTERM (:mod:`.server`).
"""
