# 五五督查 production image. The default command is the web server (gunicorn); the same image
# runs the Celery worker and beat with another command (see docker-compose.yml).
#
#   docker build -t civilaffairs .
#
# Everything the browser loads is inside the image: the npm packages pinned in
# package-lock.json are installed by `npm ci` in a throw-away Node stage, the files the pages
# use are copied from there into static/vendor/ (`manage.py vendor_assets`) and collected with
# the project's own static files at build time. Nothing is fetched at run time.
# Needs BuildKit (the default builder of current Docker) for RUN --mount.

# --- front-end packages -------------------------------------------------------------------
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# --- Python wheels (built where a compiler is available, installed without one) -----------
FROM python:3.11-slim-bookworm AS wheels
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml ./
# The runtime dependencies from pyproject.toml (not the dev extra), plus the build backend so
# the project itself installs offline in the next stage.
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print(*deps, sep='\n')" > requirements.txt \
    && echo "setuptools>=68" >> requirements.txt \
    && pip wheel --wheel-dir /wheels -r requirements.txt

# --- the application ----------------------------------------------------------------------
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    CIVILAFFAIRS_VAR_DIR=/app/var \
    MEDIA_ROOT=/app/var/media

# Pango for WeasyPrint (PDF briefs), the CJK fonts, gettext for translators working in the
# container.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk gettext \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app \
        --shell /usr/sbin/nologin app

WORKDIR /app

COPY --from=wheels /src/requirements.txt /tmp/requirements.txt
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .

# Install the project (its code is imported from /app, see PYTHONPATH: templates, static files
# and the catalogs live beside it), compile the catalogs, copy the front-end files out of the
# Node stage's node_modules (mounted for this step only, so it is not in the image) and collect
# the static files. The dummy URLs only keep settings from starting the embedded servers;
# nothing connects to them.
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    --mount=type=bind,from=assets,source=/src/node_modules,target=/app/node_modules \
    pip install --no-index --find-links /wheels --no-deps . \
    && rm -rf build ./*.egg-info \
    && export SECRET_KEY=collectstatic-at-build-time-only \
        DATABASE_URL=postgres://build@127.0.0.1:1/build \
        REDIS_URL=redis://127.0.0.1:1/0 \
    && python manage.py compile_catalog \
    && python manage.py vendor_assets \
    && python manage.py collectstatic --noinput -v0 \
    && mkdir -p /app/var/media \
    && chown -R app:app /app/var

USER app
EXPOSE 8000

# --no-control-socket: gunicorn >= 25.1 would otherwise open a control socket in $HOME.
CMD ["gunicorn", "civilaffairs.wsgi", "-b", "0.0.0.0:8000", "--workers", "3", "--threads", "4", \
     "--no-control-socket", "--access-logfile", "-"]
