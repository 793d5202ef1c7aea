#!/usr/bin/env bash
# Install Tillsight as systemd services; run by `make install-device`, `make install-hub`,
# `make uninstall` and `make rollback`.  See docs/operations.md.
#
#   systemd/install.sh device | hub | uninstall | rollback
#
# Settings (environment variables; the Makefile passes its variables through):
#   DESTDIR        staging root for packages and tests; empty = this machine (needs root)
#   PYTHON         interpreter the virtual environment is made from (>= 3.11; default python3)
#   PROFILE        device profile of a NEW /etc/tillsight/config.yaml: pi4, pi5, jetson or dev
#                  (default: detected from the board)
#   CAMERA_DEVICE  the camera the appliance waits for at boot (default /dev/video0, or what the
#                  installed drop-in already says); "none" for an RTSP camera
#   SKIP_VENV=1    do not build the virtual environment (a package that ships it otherwise; tests)
#   VENV_ARGS      more `python -m venv` arguments, e.g. --system-site-packages (a Jetson's
#                  onnxruntime-gpu, a Pi's picamera2 from apt)
#   PIP_ARGS       more `pip install` arguments, e.g. --no-index --find-links /media/usb/wheels
#   PACKAGE        what pip installs (default: this checkout; a wheel file works too)
#   ENABLE=0       do not enable the services (live installs enable them; running ones restart)
#
# Layout: /opt/tillsight/releases/<id>/ (one virtual environment per install), /opt/tillsight/venv
# -> the current release, /opt/tillsight/venv.previous -> the one before (`make rollback`),
# /opt/tillsight/share (models, examples, docs), /etc/tillsight (config, secrets: never
# overwritten), /var/lib/tillsight (device data) and /var/lib/tillsight-hub (hub data): kept by
# `make uninstall`.  Running it again is safe: config, secrets and data are left as they are.

set -euo pipefail

ACTION="${1:-}"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DESTDIR="${DESTDIR:-}"
DESTDIR="${DESTDIR%/}"
PYTHON="${PYTHON:-python3}"
PROFILE="${PROFILE:-}"
CAMERA_DEVICE="${CAMERA_DEVICE:-}"
SKIP_VENV="${SKIP_VENV:-0}"
VENV_ARGS="${VENV_ARGS:-}"
PIP_ARGS="${PIP_ARGS:-}"
PACKAGE="${PACKAGE:-}"
ENABLE="${ENABLE:-1}"

PREFIX=/opt/tillsight
CONFDIR=/etc/tillsight
STATEDIR=/var/lib/tillsight
HUB_STATEDIR=/var/lib/tillsight-hub
UNITDIR=/etc/systemd/system
SYSUSERSDIR=/etc/sysusers.d
UDEVDIR=/etc/udev/rules.d
SBINDIR=/usr/local/sbin
KEEP_RELEASES=3

DEVICE_UNITS=(tillsight-appliance.service tillsight-sync.service)
HUB_UNITS=(tillsight-hub.target tillsight-hub-web.service tillsight-ingest@.service tillsight-jobs.service
           tillsight-jobs.timer tillsight-broker-reload.path tillsight-broker-reload.service tillsight-fleet.service)

WORK="" WORK_CONF=""
trap 'rm -rf ${WORK:+"$WORK"} ${WORK_CONF:+"$WORK_CONF"}' EXIT

say() { printf '%s\n' "$*"; }
# git as root in a checkout another user owns ("dubious ownership" otherwise)
git_src() { git -c safe.directory="$SRC" -C "$SRC" "$@"; }
# the tillsight units systemd knows (a failed one is listed with a leading bullet)
tillsight_units() {
    { systemctl list-units --all --plain --no-legend "$@" 'tillsight*' 2>/dev/null || true; } \
        | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^tillsight/) { print $i; break }}'
}
die() { printf 'install: %s\n' "$*" >&2; exit 1; }
live() { [ -z "$DESTDIR" ]; }
dest() { printf '%s%s' "$DESTDIR" "$1"; }

# install_file MODE SOURCE TARGET: copy (replacing) a file we own.
install_file() { install -D -m "$1" "$2" "$(dest "$3")"; }

# install_once MODE OWNER:GROUP SOURCE TARGET: copy only when absent (config, secrets).
install_once() {
    local mode="$1" owner="$2" src="$3" target="$4"
    if [ -e "$(dest "$target")" ]; then
        say "kept      $target (already there)"
        return
    fi
    install -D -m "$mode" "$src" "$(dest "$target")"
    if live; then chown "$owner" "$target"; fi
    say "installed $target"
}

# make_dir MODE OWNER:GROUP PATH
make_dir() {
    install -d -m "$1" "$(dest "$3")"
    if live; then chown "$2" "$3"; fi
}

need_root() {
    if live && [ "$(id -u)" != 0 ]; then
        die "installing on this machine needs root: sudo make $1 (or DESTDIR=/some/folder to stage)"
    fi
}

has_systemd() { live && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

detect_profile() {
    local model=""
    if [ -r /proc/device-tree/model ]; then model="$(tr -d '\0' < /proc/device-tree/model)"; fi
    case "$model" in
        *"Raspberry Pi 5"*) echo pi5 ;;
        *"Raspberry Pi 4"*) echo pi4 ;;
        *Jetson*) echo jetson ;;
        *) if [ -e /etc/nv_tegra_release ]; then echo jetson; else echo dev; fi ;;
    esac
}

# --- the virtual environment -----------------------------------------------------------------

# A copy of the checkout's files (tracked and new, not ignored): pip builds from it, so stale
# build/ output or a developer's .venv never end up in the installed package.
stage_source() {
    local out="$1"
    if git_src rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$SRC" && git_src ls-files -z --cached --others --exclude-standard \
            | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
            | tar --null -T - -cf -) | tar -xf - -C "$out"
    else
        tar -C "$SRC" --exclude=./.venv --exclude=./build --exclude=./var -cf - . | tar -xf - -C "$out"
    fi
}

build_release() {
    local extra="$1"  # "" for a device, "[hub]" for the hub
    if [ "$SKIP_VENV" = 1 ]; then
        say "skipped   the virtual environment (SKIP_VENV=1)"
        return
    fi
    command -v "$PYTHON" >/dev/null 2>&1 || die "no $PYTHON: install python3 (>= 3.11) and python3-venv"
    "$PYTHON" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
        || die "$PYTHON must be Python >= 3.11 with the venv module (apt-get install python3-venv)"
    local id rev
    rev="$(git_src rev-parse --short HEAD 2>/dev/null || echo local)"
    id="$(date -u +%Y%m%dT%H%M%SZ)-$rev"
    local n=1 base="$id"
    while [ -e "$(dest "$PREFIX/releases/$id")" ]; do n=$((n + 1)); id="$base.$n"; done
    local release="$PREFIX/releases/$id"
    local target; target="$(dest "$release")"
    WORK="$(mktemp -d)"
    local package="$PACKAGE"
    if [ -z "$package" ]; then
        mkdir "$WORK/src"
        stage_source "$WORK/src"
        package="$WORK/src"
    fi
    say "building  $release (pip install ${package##*/}$extra; this takes a while)"
    mkdir -p "$(dirname "$target")"
    # shellcheck disable=SC2086 # word splitting of the extra arguments is intended
    if ! "$PYTHON" -m venv $VENV_ARGS "$target" \
        || ! "$target/bin/python" -m pip install --disable-pip-version-check --no-input -q $PIP_ARGS "$package$extra"; then
        rm -rf "$target"
        die "building the virtual environment failed; the installed version is unchanged"
    fi
    if [ -n "$DESTDIR" ]; then
        # Scripts were written with the staging path in their first line: point them at the real one.
        grep -rlI --null -F "$target" "$target/bin" | xargs -0 -r sed -i "s#$target#$release#g"
    fi
    switch_release "releases/$id"
}

# Point venv at RELEASE ("releases/<id>", relative so a staged tree works too), atomically, and
# venv.previous at the one it replaces; prune old releases.
switch_release() {
    local release="$1" old=""
    if [ -L "$(dest "$PREFIX/venv")" ]; then old="$(readlink "$(dest "$PREFIX/venv")")"; fi
    ln -sfn "$release" "$(dest "$PREFIX/venv.new")"
    mv -T "$(dest "$PREFIX/venv.new")" "$(dest "$PREFIX/venv")"
    if [ -n "$old" ] && [ "$old" != "$release" ]; then
        ln -sfn "$old" "$(dest "$PREFIX/venv.previous.new")"
        mv -T "$(dest "$PREFIX/venv.previous.new")" "$(dest "$PREFIX/venv.previous")"
    fi
    say "current   $PREFIX/venv -> $PREFIX/$release"
    local keep=("$release")
    [ -L "$(dest "$PREFIX/venv.previous")" ] && keep+=("$(readlink "$(dest "$PREFIX/venv.previous")")")
    local n=0 dir
    # shellcheck disable=SC2012 # release names are our own: <time>-<commit>
    while IFS= read -r dir; do
        n=$((n + 1))
        local skip=0 k
        for k in "${keep[@]}"; do [ "$k" = "releases/$dir" ] && skip=1; done
        if [ "$skip" = 0 ] && [ "$n" -gt "$KEEP_RELEASES" ]; then
            rm -rf "$(dest "$PREFIX/releases/$dir")"
            say "removed   $PREFIX/releases/$dir (old release)"
        fi
    done < <(ls -1 "$(dest "$PREFIX/releases")" | sort -r)
}

# --- what both roles install -------------------------------------------------------------------

install_common() {
    make_dir 0755 root:root "$PREFIX"
    make_dir 0755 root:root "$PREFIX/releases"
    install_file 0755 "$SRC/systemd/bin/tillsight-admin" "$PREFIX/bin/tillsight-admin"
    install -d -m 0755 "$(dest "$SBINDIR")"
    ln -sfn "$PREFIX/bin/tillsight-admin" "$(dest "$SBINDIR/tillsight-admin")"
    install_file 0644 "$SRC/docs/operations.md" "$PREFIX/share/doc/operations.md"
    local f
    for f in "$SRC"/firmware_config/examples/*.yaml "$SRC/systemd/etc/hub.yaml"; do
        install_file 0644 "$f" "$PREFIX/share/examples/$(basename "$f")"
    done
}

create_user() {  # create_user SYSUSERS_FILE NAME HOME [GROUP...]
    local conf="$1" name="$2" home="$3"; shift 3
    live || return 0
    if command -v systemd-sysusers >/dev/null 2>&1; then
        systemd-sysusers "$conf"
    elif ! id "$name" >/dev/null 2>&1; then
        useradd --system --user-group --home-dir "$home" --no-create-home --shell /usr/sbin/nologin "$name"
    fi
    local group
    for group in "$@"; do
        if getent group "$group" >/dev/null; then usermod -a -G "$group" "$name"; fi
    done
}

reload_systemd() {
    if has_systemd; then systemctl daemon-reload; fi
}

# enable_and_restart UNIT...: enable for boot; restart the ones running now (an update).
# A unit that fails to come back makes the whole install fail (with the rollback hint).
enable_and_restart() {
    has_systemd || return 0
    [ "$ENABLE" = 1 ] || { say "not enabled (ENABLE=0)"; return 0; }
    systemctl enable "$@" >/dev/null
    say "enabled   $*"
    local unit failed=()
    for unit in "$@"; do
        case "$unit" in *.target|*.path|*.timer) continue ;; esac
        if systemctl is-active --quiet "$unit"; then
            say "restart   $unit"
            systemctl restart "$unit" || failed+=("$unit")
        fi
    done
    if [ "${#failed[@]}" -gt 0 ]; then
        say "FAILED to restart: ${failed[*]} -- see journalctl -u ${failed[0]} -n 50"
        if [ -L "$PREFIX/venv.previous" ]; then
            say "going back to $(readlink "$PREFIX/venv.previous") (make rollback)"
            rollback "${failed[@]}"
        fi
        exit 1
    fi
}

# --- device ------------------------------------------------------------------------------------

install_device() {
    need_root install-device
    if [ -z "$PROFILE" ]; then PROFILE="$(detect_profile)"; fi
    WORK_CONF="$(mktemp -d)"
    case "$PROFILE" in dev|pi4|pi5|jetson) ;; *) die "PROFILE=$PROFILE: use pi4, pi5, jetson or dev" ;; esac
    case "$CAMERA_DEVICE" in ''|none|/dev/?*) ;; *) die "CAMERA_DEVICE=$CAMERA_DEVICE: give a /dev/... path or none" ;; esac
    say "Tillsight device install (profile $PROFILE) into ${DESTDIR:-/}"

    install_file 0644 "$SRC/systemd/sysusers.d/tillsight.conf" "$SYSUSERSDIR/tillsight.conf"
    create_user "$SYSUSERSDIR/tillsight.conf" tillsight "$STATEDIR" video
    install_common
    build_release ""
    rm -rf "$(dest "$PREFIX/share/models/demo")"
    install -d -m 0755 "$(dest "$PREFIX/share/models")"
    cp -R "$SRC/models/demo" "$(dest "$PREFIX/share/models/demo")"
    chmod -R u=rwX,go=rX "$(dest "$PREFIX/share/models/demo")"

    make_dir 0755 root:root "$CONFDIR"  # the files inside have their own modes
    # The profile's example, with the model and data where the units expect them (the dev example
    # names paths inside a checkout).
    mkdir -p "$WORK_CONF"
    sed -E -e "s#^([[:space:]]*bundle:).*#\1 $STATEDIR/models/current#" -e "s#^data_dir:.*#data_dir: $STATEDIR#" \
        "$SRC/firmware_config/examples/$PROFILE.yaml" > "$WORK_CONF/config.yaml"
    install_once 0640 root:tillsight "$WORK_CONF/config.yaml" "$CONFDIR/config.yaml"
    install_once 0600 root:root "$SRC/systemd/etc/tillsight.env" "$CONFDIR/tillsight.env"

    make_dir 0750 tillsight:tillsight "$STATEDIR"
    # A first model, so a new till starts (barcode and manual entry work with any model); put the
    # shop's own bundle here, or let the fleet deliver one (it then takes precedence).
    if [ ! -e "$(dest "$STATEDIR/models/current")" ]; then
        install -d -m 0750 "$(dest "$STATEDIR/models")"
        cp -R "$SRC/models/demo" "$(dest "$STATEDIR/models/current")"
        if live; then chown -R tillsight:tillsight "$STATEDIR/models"; fi
        say "installed $STATEDIR/models/current (the demo model)"
    fi

    local unit
    for unit in "${DEVICE_UNITS[@]}"; do
        install_file 0644 "$SRC/systemd/device/$unit" "$UNITDIR/$unit"
    done
    install_camera_dropin
    local jetson="$UNITDIR/tillsight-appliance.service.d/jetson.conf"
    if [ "$PROFILE" = jetson ]; then
        install_file 0644 "$SRC/systemd/device/dropins/jetson.conf" "$jetson"
    else
        rm -f "$(dest "$jetson")"
    fi
    install_file 0644 "$SRC/systemd/udev/70-tillsight-camera.rules" "$UDEVDIR/70-tillsight-camera.rules"
    if live && command -v udevadm >/dev/null 2>&1; then
        udevadm control --reload || true
        udevadm trigger --subsystem-match=video4linux --action=change || true
    fi
    reload_systemd
    enable_and_restart "${DEVICE_UNITS[@]}"
    say ""
    say "Next: edit $CONFDIR/config.yaml (store, camera, broker) and $CONFDIR/tillsight.env (secrets),"
    say "      then: tillsight-admin config check $CONFDIR/config.yaml"
    say "            systemctl restart ${DEVICE_UNITS[*]}"
}

# The camera the appliance waits for at boot, as a drop-in (dependencies cannot be removed by a
# later drop-in, so they live in their own file).  Kept as it is unless CAMERA_DEVICE is given.
install_camera_dropin() {
    local file="$UNITDIR/tillsight-appliance.service.d/camera.conf"
    if [ -z "$CAMERA_DEVICE" ] && [ -e "$(dest "$file")" ]; then
        say "kept      $file"
        return
    fi
    local device="${CAMERA_DEVICE:-/dev/video0}"
    install -d -m 0755 "$(dirname "$(dest "$file")")"
    if [ "$device" = none ]; then
        printf '%s\n' "# Written by make install-device CAMERA_DEVICE=none: the camera is on the network" \
            "# (RTSP) or not a V4L2 device, so the appliance does not wait for one at boot." \
            "[Unit]" > "$(dest "$file")"
    else
        local unit
        if command -v systemd-escape >/dev/null 2>&1; then
            unit="$(systemd-escape --path --suffix=device "$device")"
        else
            unit="$(printf '%s' "${device#/}" | sed 's#-#\\x2d#g; s#/#-#g').device"
        fi
        printf '%s\n' "# Written by make install-device CAMERA_DEVICE=$device: start once the camera is there" \
            "# (or when waiting for it times out, 90 s: the till then starts and shows the camera as" \
            "# reconnecting).  Wants=, not BindsTo=: unplugging the camera must not stop the till." \
            "[Unit]" "Wants=$unit" "After=$unit" > "$(dest "$file")"
    fi
    chmod 0644 "$(dest "$file")"
    say "installed $file (camera: $device)"
}

# --- hub ---------------------------------------------------------------------------------------

install_hub() {
    need_root install-hub
    say "Tillsight hub install into ${DESTDIR:-/}"
    install_file 0644 "$SRC/systemd/sysusers.d/tillsight-hub.conf" "$SYSUSERSDIR/tillsight-hub.conf"
    # In the mosquitto group (when the broker is installed) so it can give the broker its files.
    create_user "$SYSUSERSDIR/tillsight-hub.conf" tillsight-hub "$HUB_STATEDIR" mosquitto
    install_common
    build_release "[hub]"

    make_dir 0755 root:root "$CONFDIR"
    install_once 0640 root:tillsight-hub "$SRC/systemd/etc/hub.yaml" "$CONFDIR/hub.yaml"
    install_once 0600 root:root "$SRC/systemd/etc/hub.env" "$CONFDIR/hub.env"
    make_dir 0751 tillsight-hub:tillsight-hub "$HUB_STATEDIR"
    local broker_group=tillsight-hub
    if live && getent group mosquitto >/dev/null; then broker_group=mosquitto; fi
    make_dir 0750 "tillsight-hub:$broker_group" "$HUB_STATEDIR/broker"

    local unit
    for unit in "${HUB_UNITS[@]}"; do
        install_file 0644 "$SRC/systemd/hub/$unit" "$UNITDIR/$unit"
    done
    reload_systemd
    enable_and_restart tillsight-hub.target tillsight-hub-web.service tillsight-ingest@1.service \
        tillsight-jobs.timer tillsight-broker-reload.path tillsight-fleet.service
    say ""
    say "Next (docs/operations.md, \"The hub\"): edit $CONFDIR/hub.yaml and $CONFDIR/hub.env, set up the"
    say "broker's TLS and hub user, render its configuration, then: systemctl start tillsight-hub.target"
    say "  tillsight-admin --hub hub broker render --config $CONFDIR/hub.yaml --snippet --tls-port 8883 ..."
}

# --- uninstall and rollback --------------------------------------------------------------------

uninstall() {
    need_root uninstall
    local unit all=("${DEVICE_UNITS[@]}" "${HUB_UNITS[@]}")
    if has_systemd; then
        local active
        active="$(tillsight_units)"
        # shellcheck disable=SC2086
        if [ -n "$active" ]; then systemctl stop $active || true; fi
        for unit in "${all[@]}"; do
            case "$unit" in *@.service) continue ;; esac
            systemctl disable "$unit" >/dev/null 2>&1 || true
        done
        # every enabled ingest instance
        find /etc/systemd/system -name 'tillsight-ingest@*.service' -type l -delete 2>/dev/null || true
        systemctl reset-failed 'tillsight*' 2>/dev/null || true
    fi
    for unit in "${all[@]}"; do rm -f "$(dest "$UNITDIR/$unit")"; done
    rm -rf "$(dest "$UNITDIR/tillsight-appliance.service.d")"
    rm -f "$(dest "$UDEVDIR/70-tillsight-camera.rules")" "$(dest "$SBINDIR/tillsight-admin")"
    rm -rf "$(dest "$PREFIX")"
    reload_systemd
    say "removed   the units, $PREFIX and the camera rule"
    say "kept      $CONFDIR (config and secrets), $STATEDIR and $HUB_STATEDIR (data),"
    say "          the users tillsight / tillsight-hub and $SYSUSERSDIR/tillsight*.conf (they own the data)"
}

# rollback [UNIT...]: swap venv and venv.previous; restart the running (and the named) services.
rollback() {
    need_root rollback
    local cur prev
    prev="$(readlink "$(dest "$PREFIX/venv.previous")" 2>/dev/null)" || die "no previous release to go back to"
    cur="$(readlink "$(dest "$PREFIX/venv")")"
    ln -sfn "$prev" "$(dest "$PREFIX/venv.new")" && mv -T "$(dest "$PREFIX/venv.new")" "$(dest "$PREFIX/venv")"
    ln -sfn "$cur" "$(dest "$PREFIX/venv.previous.new")" && mv -T "$(dest "$PREFIX/venv.previous.new")" "$(dest "$PREFIX/venv.previous")"
    say "current   $PREFIX/venv -> $PREFIX/$prev (was $cur)"
    if has_systemd; then
        local unit units
        units="$( (printf '%s\n' "$@"; tillsight_units --state=active | { grep '\.service$' || true; }) | sort -u)"
        for unit in $units; do
            say "restart   $unit"
            systemctl reset-failed "$unit" 2>/dev/null || true
            systemctl restart "$unit" || say "FAILED to restart $unit -- see journalctl -u $unit -n 50"
        done
    fi
}

case "$ACTION" in
    device) install_device ;;
    hub) install_hub ;;
    uninstall) uninstall ;;
    rollback) rollback ;;  # by hand: make rollback
    *) die "usage: $0 device|hub|uninstall|rollback (see the top of this file for the settings)" ;;
esac
