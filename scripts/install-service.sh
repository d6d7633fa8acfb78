#!/usr/bin/env bash
# Installs Accompanist as a systemd service (after scripts/setup.sh has built it).
#
#   scripts/install-service.sh --user     ~/.local/bin, ~/.config/accompanist, user unit
#   scripts/install-service.sh --system   /usr/local/bin, /etc/accompanist, user "accompanist"
#                                          in group audio, system unit (run as root)
# ROOT=/some/dir installs under that directory instead of / (to look before installing).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
root="${ROOT:-}"
[ -x .build/release/accompanist ] || { echo "install-service: build first: scripts/setup.sh" >&2; exit 1; }

install_files() {  # bin_dir share_dir config_dir unit_dir unit
    install -d "$1" "$2" "$3" "$4"
    install -m 755 .build/release/accompanist "$1/accompanist"
    install -m 644 README.md "$2/README.md"
    if [ -d Models ] && ls Models/*.safetensors >/dev/null 2>&1; then
        install -d "$2/Models"
        install -m 644 Models/* "$2/Models/"
    fi
    # Never overwrite a config someone has edited.
    [ -e "$3/accompanist.toml" ] || install -m 644 Configs/accompanist.toml "$3/accompanist.toml"
    install -m 644 "systemd/$5" "$4/$5"
}

case "$mode" in
    --user)
        home="${root}${HOME}"
        install_files "$home/.local/bin" "$home/.local/share/accompanist" "$home/.config/accompanist" \
                      "$home/.config/systemd/user" accompanist.service
        mkdir -p "$home/.local/state"
        if [ -z "$root" ]; then systemctl --user daemon-reload || true; fi
        echo "installed; start with: systemctl --user enable --now accompanist"
        ;;
    --system)
        [ -n "$root" ] || [ "$(id -u)" = 0 ] || { echo "install-service: --system needs root" >&2; exit 1; }
        install_files "$root/usr/local/bin" "$root/usr/local/share/accompanist" "$root/etc/accompanist" \
                      "$root/etc/systemd/system" accompanist-system.service
        if [ -z "$root" ]; then
            getent group audio >/dev/null || groupadd --system audio
            id accompanist >/dev/null 2>&1 || useradd --system --home-dir /var/lib/accompanist --no-create-home \
                --shell /usr/sbin/nologin --user-group --groups audio accompanist
            systemctl daemon-reload || true
        fi
        echo "installed; start with: systemctl enable --now accompanist-system"
        ;;
    *)
        sed -n '2,8p' "$0"; exit 64 ;;
esac
