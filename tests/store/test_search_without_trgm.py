"""PostgreSQL without `pg_trgm`: a role that may not create extensions. Searches still find
exactly the matching rows (by scanning), and the store says the search is not indexed."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.store.conftest import DOMAIN, Clock, tx
from tests.support.pgcluster import Cluster
from tokenusage.store import Store
from tokenusage.usage.filters import parse_filters

pytestmark = pytest.mark.postgres


def plain_role_database(cluster: Cluster) -> str:
    url = cluster.create_database()
    name = url.rsplit("/", 1)[1]
    role = "plain_" + uuid.uuid4().hex[:8]
    admin = f"host=127.0.0.1 port={cluster.port} user=postgres"
    with psycopg.connect(f"{admin} dbname=postgres", autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'REVOKE CREATE ON DATABASE "{name}" FROM PUBLIC')
    with psycopg.connect(f"{admin} dbname={name}", autocommit=True) as conn:
        conn.execute(f'GRANT CREATE, USAGE ON SCHEMA public TO "{role}"')
    return url.replace("//postgres@", f"//{role}@")


def test_search_scans_and_says_so_without_pg_trgm(pg_cluster: Cluster, clock: Clock) -> None:
    url = plain_role_database(pg_cluster)
    with Store.open(url, clock=clock) as store:
        assert store.search_indexed is False
        rows = [tx(i, description=f"Thumbnail batch {i}") for i in range(1, 40)]
        with store.full_sync(DOMAIN) as sync:
            sync.add_page(sorted(rows, key=lambda t: -t.id))
            sync.finish(total=len(rows))
        view = store.read_view(DOMAIN, "", 300, lambda _: 1, filters=parse_filters(q="BATCH 3"))
        assert view.matched is not None
        assert sorted(r.id for r in view.rows) == [3, *range(30, 40)]
        assert view.matched.count == 11


def test_search_is_indexed_with_pg_trgm(pg_cluster: Cluster, clock: Clock) -> None:
    with Store.open(pg_cluster.create_database(), clock=clock) as store:
        assert store.search_indexed is True
