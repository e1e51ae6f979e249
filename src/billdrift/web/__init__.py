"""``billdrift serve``: a local web app over the same library API the CLI uses.

A front-end beside :mod:`billdrift.cli`: it calls :mod:`billdrift.usecases` (and the
layers below) and never the CLI. Pieces, one idea per module:

* :mod:`.settings`: what the server was started with (store, config, bind, token).
* :mod:`.security`: sessions, the access token, cross-site request refusal, CSRF
  tokens and the security headers every response carries.
* :mod:`.app`: the Starlette application factory and its routes;
  :mod:`.pages` holds the page handlers, :mod:`.templating` the Jinja2 set-up.
* :mod:`.server`: runs the app under uvicorn.

Starlette (ASGI framework), uvicorn (ASGI server), Jinja2 (templates, autoescaped)
and python-multipart (forms and uploads) come with the ``web`` extra
(``pip install 'billdrift[web]'``); nothing is loaded from a CDN.
"""
