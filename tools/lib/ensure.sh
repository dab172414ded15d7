# Shared by tools/*: install what a fresh Debian machine with only the Swift
# toolchain lacks. Uses sudo only when not root.

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        as_root apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# LMDB's headers and pkg-config file (the CLMDB system library target needs them).
ensure_lmdb() {
    if ! pkg-config --exists lmdb 2>/dev/null; then
        echo "tools: installing liblmdb-dev" >&2
        apt_install liblmdb-dev pkg-config
    fi
}

# zlib's headers and pkg-config file (the CZlib system library target: the archives of closed periods).
ensure_zlib() {
    if ! pkg-config --exists zlib 2>/dev/null; then
        echo "tools: installing zlib1g-dev" >&2
        apt_install zlib1g-dev pkg-config
    fi
}

# A command from a Debian package, installed when missing.
ensure_command() {
    local command="$1" package="$2"
    if ! command -v "$command" >/dev/null 2>&1; then
        echo "tools: installing $package" >&2
        apt_install "$package"
    fi
}

# A Python virtual environment under the build folder with the given PyPI packages.
ensure_venv() {
    local venv="$1"; shift
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install -q --disable-pip-version-check "$@"
}

# nginx (Debian's nginx-light) for the relay reference of tools/bench-relay and
# tools/bench-streams. The bench runs its own instance from a temp config; the
# package's system service is kept from starting during the install (a
# policy-rc.d that refuses every start, removed again if we added it).
ensure_nginx() {
    if [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1; then return 0; fi
    echo "tools: installing nginx-light" >&2
    local added=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
        as_root chmod 755 /usr/sbin/policy-rc.d
        added=1
    fi
    apt_install nginx-light || { [ "$added" -eq 1 ] && as_root rm -f /usr/sbin/policy-rc.d; return 1; }
    if [ "$added" -eq 1 ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
}

# The nginx binary (Debian puts it in /usr/sbin, which a non-root PATH may lack).
nginx_binary() {
    if command -v nginx >/dev/null 2>&1; then command -v nginx; else echo /usr/sbin/nginx; fi
}
