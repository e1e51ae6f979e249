#!/usr/bin/env bash
# Install the database server binaries that tests/dbservers.py starts as throwaway
# servers (PostgreSQL and MariaDB), Debian's Chromium that tests/web drive with
# Playwright (never a downloaded browser), and the Java 17 runtime that pyspark's local
# mode runs in (tests/pushdown, --engine spark). Idempotent: does nothing when all are present.
#
# Why: the DB tests run against REAL servers started on free ports in temp dirs, and
# a fresh machine (or CI) has neither server. `make test` runs this before pytest.
#
# The Debian packages' own system-wide services are never started by this script:
# while apt runs, a policy-rc.d that denies service starts is put in place (unless
# one already exists), so no server lingers on 5432/3306. The tests never use those
# services anyway: they bind their own free ports and sockets.
set -euo pipefail

PACKAGES=(postgresql mariadb-server chromium openjdk-17-jre-headless)

have_postgres() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
            return 0
        fi
    done
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1
}

have_mariadb() {
    local tool
    for tool in mariadbd mariadb-install-db mariadb-admin; do
        # mariadbd lives in /usr/sbin, which may be missing from a non-root PATH.
        if ! command -v "$tool" >/dev/null 2>&1 && [[ ! -x "/usr/sbin/$tool" ]]; then
            return 1
        fi
    done
}

have_chromium() {
    [[ -x /usr/bin/chromium ]]
}

have_java17() {
    # pyspark 4 needs Java 17 or later; `java -version` prints e.g. 'version "17.0.15"'
    command -v java >/dev/null 2>&1 &&
        java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'
}

missing=()
have_postgres || missing+=("PostgreSQL (initdb, pg_ctl)")
have_mariadb || missing+=("MariaDB (mariadbd, mariadb-install-db, mariadb-admin)")
have_chromium || missing+=("Chromium (/usr/bin/chromium)")
have_java17 || missing+=("Java 17 (java)")

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install_test_servers: PostgreSQL, MariaDB, Chromium and Java 17 already present; nothing to do"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    {
        echo "install_test_servers: missing: ${missing[*]}"
        echo "install_test_servers: as root, run:"
        echo "    apt-get update && apt-get install -y --no-install-recommends ${PACKAGES[*]}"
        echo "  (or: sudo bash scripts/install_test_servers.sh)"
    } >&2
    exit 1
fi

# Keep the packages' postinst from starting system-wide servers. Only add a
# policy-rc.d if there is none, and remove only the one we added.
POLICY=/usr/sbin/policy-rc.d
added_policy=0
if [[ ! -e $POLICY ]]; then
    printf '#!/bin/sh\n# added by billdrift scripts/install_test_servers.sh\nexit 101\n' >"$POLICY"
    chmod 755 "$POLICY"
    added_policy=1
fi
cleanup() {
    if [[ $added_policy -eq 1 ]]; then
        rm -f "$POLICY"
    fi
}
trap cleanup EXIT

start=$SECONDS
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null

if ! have_postgres || ! have_mariadb || ! have_chromium || ! have_java17; then
    echo "install_test_servers: installed ${PACKAGES[*]} but binaries are still missing" >&2
    exit 1
fi
echo "install_test_servers: installed ${PACKAGES[*]} for ${missing[*]} in $((SECONDS - start)) s"
