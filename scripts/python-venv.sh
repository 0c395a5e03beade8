#!/usr/bin/env bash
# Creates (once) the project's Python virtual environment for the tests
# against the real RL libraries, and installs into it the pinned releases
# below from PyPI plus the recarena package itself (editable). Quick when
# everything is there already: it checks a stamp of this file's pins.
#   usage: scripts/python-venv.sh [VENV_DIR]      (default: build/venv)
#
# --system-site-packages: Debian's python3-zmq, python3-msgpack,
# python3-numpy, python3-torch (1.13), python3-pandas and python3-matplotlib
# are used as they are (scripts/install-deps.sh installs them). Every PyPI
# package is installed with --no-deps, its dependencies listed here
# explicitly, so pip never pulls PyPI's torch (gigabytes of CUDA) or a
# second numpy. The pins, and why:
#   stable-baselines3 2.4.1   the last release that accepts torch 1.13
#                             (2.5 needs torch >= 2.3); it needs
#                             gymnasium < 1.1 and numpy < 2
#   gymnasium 1.0.0           the newest release SB3 2.4.1 accepts
#   pettingzoo 1.25.0         needs gymnasium >= 1.0
#   supersuit 3.10.0          needs pettingzoo >= 1.24.1, gymnasium >= 1.0
#   tinyscaler, farama-notifications, cloudpickle: their dependencies
#   obp 0.5.7                 the Open Bandit Pipeline, for test_ope_obp.py
#                             (recarena.ope against OBP's estimators). It
#                             declares python < 3.11 but is pure Python and
#                             works on 3.11, hence --ignore-requires-python;
#                             scikit-learn 1.3.2 / scipy 1.11.4 (the last to
#                             accept numpy 1.24), joblib, threadpoolctl,
#                             seaborn, tqdm are what `import obp` needs; its
#                             torch is Debian's
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-build/venv}
pins=(
    gymnasium==1.0.0
    pettingzoo==1.25.0
    supersuit==3.10.0
    stable-baselines3==2.4.1
    farama-notifications==0.0.4
    cloudpickle==3.1.1
    tinyscaler==1.2.8
    obp==0.5.7
    scikit-learn==1.3.2
    scipy==1.11.4
    joblib==1.4.2
    threadpoolctl==3.5.0
    seaborn==0.13.2
    tqdm==4.67.1
)
stamp="$venv/.recarena-pins"
want="$(printf '%s\n' "${pins[@]}")"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
    echo "python-venv: creating $venv"
    /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
py="$venv/bin/python"
"$py" -m pip install -q --disable-pip-version-check --no-deps --ignore-requires-python "${pins[@]}"
# the package itself, built offline by Debian's setuptools
"$py" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation \
    -e agents/python
"$py" -c 'import gymnasium, pettingzoo, supersuit, stable_baselines3, torch, recarena, obp.ope' ||
    { echo "python-venv: the libraries do not import in $venv" >&2; exit 1; }
printf '%s\n' "${pins[@]}" >"$stamp"
echo "python-venv: ready ($venv)"
