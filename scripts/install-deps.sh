#!/usr/bin/env bash
# Installs the Debian packages recarena builds and tests with, and nothing
# when they are all present already. Run as root (or with sudo available).
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libzmq3-dev libmsgpack-dev libinih-dev libopenblas-dev libcmocka-dev libjansson-dev
    libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev fonts-dejavu-core
    python3-zmq python3-msgpack python3-numpy
    python3-venv python3-pip python3-setuptools python3-wheel
    python3-torch python3-pandas python3-matplotlib
    clang clang-format libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
