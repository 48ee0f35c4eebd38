"""The (id, label) choices of the filter bars' unit and plan selects, kept in the cache.

A list page's filter bar reads up to 500 units above the institutions and up to 500 plans for
its selects on every request, the same rows for everyone with the same view: at city scale
that was a fifth of the orders page. The rows are kept under a key made of the select's SQL (so
of the reader's visibility and the select's narrowing), stamped with a version of their model.
Saving or deleting a unit or a plan bumps the version at once and again when the transaction
commits (a reader between the two may have read the rows as they were before it): no one is
shown a stale list after a change made through the models. A change made without signals (a
bulk update, ``bench_seed``'s COPY) is seen within ``CHOICE_CACHE_SECONDS`` at most;
``bump()`` says so at once. With the cache unreachable the rows are read every time."""

import hashlib
from contextlib import suppress

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import transaction

# Models whose choices are kept, by label.
MODELS = ("civilaffairs.OrgUnit", "inspections.InspectionPlan")


def _database(alias: str = "default") -> str:
    """Which database the rows come from: two databases behind one Redis (a demo and a
    benchmark, say) never share kept rows or versions."""
    db = settings.DATABASES[alias]
    return f"{db.get('HOST')}:{db.get('PORT')}/{db.get('NAME')}"


def _version_key(model, alias: str = "default") -> str:
    digest = hashlib.sha256(_database(alias).encode()).hexdigest()[:16]
    return f"choices:version:{digest}:{model._meta.label_lower}"


def bump(model, using: str = "default") -> None:
    """Make every kept choice list of ``model`` stale."""
    key = _version_key(model, using)
    try:
        cache.incr(key)
    except ValueError:  # no version yet, or the cache is unreachable
        if not cache.add(key, 1, None):
            with suppress(ValueError):
                cache.incr(key)


def rows(queryset, prepare=None) -> list:
    """``list(queryset)`` (passed through ``prepare``, a module-level function, when given),
    from the cache when the same query was read since the last change of its model."""
    prepare = prepare or list
    seconds = settings.CHOICE_CACHE_SECONDS
    if not seconds or queryset.model._meta.label not in MODELS:
        return prepare(queryset)
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return prepare([])
    how = f"{prepare.__module__}.{prepare.__qualname__}"
    source = repr((_database(queryset.db), sql, params, how))
    key = "choices:" + hashlib.sha256(source.encode()).hexdigest()
    version_key = _version_key(queryset.model, queryset.db)
    found = cache.get_many([version_key, key])
    version = found.get(version_key, 0)
    kept = found.get(key)
    if kept is not None and kept[0] == version:
        return kept[1]
    result = prepare(queryset)
    cache.set(key, (version, result), seconds)
    return result


def _changed(sender, using="default", **kwargs):
    bump(sender, using)
    transaction.on_commit(lambda: bump(sender, using), using=using)


def connect() -> None:
    """Bump a model's version when one of its rows is saved or deleted (AppConfig.ready)."""
    from django.apps import apps
    from django.db.models.signals import post_delete, post_save

    for label in MODELS:
        model = apps.get_model(label)
        post_save.connect(_changed, sender=model, dispatch_uid=f"choices-{label}-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"choices-{label}-delete")
