#!/usr/bin/env bash
# Installs the Go-built developer tools the platform runs against and links them into .tools/bin:
#   .tools/bin/temporal     Temporal CLI (dev server with the UI on :8233), github.com/temporalio/cli v1.5.1
#   .tools/bin/stripe-mock  stripe-mock (Stripe API request-shape checks), github.com/stripe/stripe-mock v0.199.0
#
# The real binaries live in a cache outside the clone, so every clone on a machine (and CI's fresh clone)
# reuses them and only the first run pays for `go install`:
#   ${EV_BILLING_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ev-billing-tools}/temporal-v1.5.1/temporal
#   ${EV_BILLING_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ev-billing-tools}/stripe-mock-v0.199.0/stripe-mock
#
# Overrides (no Go needed): TEMPORAL_BIN=/path/to/temporal  STRIPE_MOCK_BIN=/path/to/stripe-mock
# Without those and without a cached build, Go >= 1.22 must be on PATH.
# Idempotent: with both binaries cached it only checks them and the links (well under a second).
set -euo pipefail
shopt -s inherit_errexit 2>/dev/null || true # bash >= 4.4: errors inside $(...) stop the script too

readonly TEMPORAL_VERSION=1.5.1
readonly TEMPORAL_MODULE=github.com/temporalio/cli/cmd/temporal
# `go install` leaves the CLI's version at 0.0.0-DEV; the release build sets it with this linker flag.
readonly TEMPORAL_LDFLAGS="-X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_VERSION}"
# CLI v1.5.1 embeds this server version; `temporal --version` prints it as "(Server 1.29.1, ...)".
readonly TEMPORAL_EMBEDDED_SERVER=1.29.1

readonly STRIPE_MOCK_VERSION=0.199.0
readonly STRIPE_MOCK_MODULE=github.com/stripe/stripe-mock
readonly STRIPE_MOCK_LDFLAGS="-X main.version=${STRIPE_MOCK_VERSION}"

readonly GO_MIN_MAJOR=1 GO_MIN_MINOR=22

script_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
repo_root="$(cd -- "${script_dir}/.." && pwd -P)"
bin_dir="${repo_root}/.tools/bin"
if [[ -n "${EV_BILLING_TOOLS_CACHE:-}" ]]; then
  cache_root="${EV_BILLING_TOOLS_CACHE}"
elif [[ -n "${XDG_CACHE_HOME:-}" ]]; then
  cache_root="${XDG_CACHE_HOME}/ev-billing-tools"
elif [[ -n "${HOME:-}" ]]; then
  cache_root="${HOME}/.cache/ev-billing-tools"
else
  echo "setup-tools: error: neither HOME, XDG_CACHE_HOME nor EV_BILLING_TOOLS_CACHE is set; cannot place the tools cache" >&2
  exit 1
fi

die() {
  echo "setup-tools: error: $*" >&2
  exit 1
}
warn() { echo "setup-tools: warning: $*" >&2; }

abs_path() { # absolute path of an existing file, without resolving the file itself if it is a symlink
  local dir
  dir="$(cd -- "$(dirname -- "$1")" && pwd -P)" || return 1
  printf '%s/%s\n' "${dir}" "$(basename -- "$1")"
}

have_go=false
if command -v go >/dev/null 2>&1; then have_go=true; fi

check_go_version() {
  local v major minor
  v="$(go env GOVERSION 2>/dev/null || true)" # e.g. go1.26.8, go1.22rc1
  if [[ "${v}" =~ ^go([0-9]+)\.([0-9]+) ]]; then
    major="${BASH_REMATCH[1]}" minor="${BASH_REMATCH[2]}"
    if ((major > GO_MIN_MAJOR || (major == GO_MIN_MAJOR && minor >= GO_MIN_MINOR))); then return 0; fi
  fi
  die "Go ${GO_MIN_MAJOR}.${GO_MIN_MINOR} or newer is needed to build the tools, found '${v:-unknown}' ($(command -v go)).
  Install Go >= ${GO_MIN_MAJOR}.${GO_MIN_MINOR} (https://go.dev/dl/), or set TEMPORAL_BIN and STRIPE_MOCK_BIN to existing binaries."
}

# go_install NAME MODULE VERSION LDFLAGS DEST_DIR: builds into a staging dir, then renames into place, so an
# interrupted or concurrent run never leaves a half-written binary where the next run would trust it.
go_install() {
  local name="$1" module="$2" version="$3" ldflags="$4" dest_dir="$5"
  local stage log
  mkdir -p "${dest_dir}"
  stage="$(mktemp -d "${dest_dir}.stage.XXXXXX")"
  log="${cache_root}/${name}-v${version}.install.log"
  echo "setup-tools: building ${name} with: go install ${module}@v${version} (first run on this machine; this takes a few minutes)" >&2
  if ! GOBIN="${stage}" go install -ldflags="${ldflags}" "${module}@v${version}" >"${log}" 2>&1; then
    rm -rf "${stage}"
    echo "setup-tools: error: installing ${name} failed: go install ${module}@v${version}" >&2
    echo "---- last lines of ${log} ----" >&2
    tail -n 30 "${log}" >&2
    echo "----" >&2
    exit 1
  fi
  [[ -x "${stage}/${name}" ]] || {
    rm -rf "${stage}"
    die "go install ${module}@v${version} succeeded but produced no '${name}' binary (see ${log})"
  }
  mv -f "${stage}/${name}" "${dest_dir}/${name}"
  rm -rf "${stage}" "${log}"
}

# link NAME TARGET: .tools/bin/NAME -> TARGET (left alone when it already points there).
link() {
  local name="$1" target="$2" link_path="${bin_dir}/$1"
  [[ "${target}" == "${link_path}" ]] && return 0 # the override already is .tools/bin/NAME
  if [[ -L "${link_path}" && "$(readlink -- "${link_path}")" == "${target}" ]]; then return 0; fi
  mkdir -p "${bin_dir}"
  ln -sfn -- "${target}" "${link_path}"
}

# resolve NAME ENV_VAR VERSION MODULE LDFLAGS: prints the binary to use; builds it when needed.
resolve() {
  local name="$1" env_var="$2" version="$3" module="$4" ldflags="$5"
  local override="${!env_var:-}"
  if [[ -n "${override}" ]]; then
    [[ -e "${override}" ]] || die "${env_var}=${override}: no such file"
    [[ -f "${override}" && -x "${override}" ]] || die "${env_var}=${override} is not an executable file"
    abs_path "${override}"
    return 0
  fi
  local dir="${cache_root}/${name}-v${version}"
  if [[ ! -x "${dir}/${name}" ]]; then
    go_install "${name}" "${module}" "${version}" "${ldflags}" "${dir}"
  fi
  printf '%s\n' "${dir}/${name}"
}

# Fail early, and only once, when something has to be built and Go is missing or too old.
missing=()
[[ -n "${TEMPORAL_BIN:-}" || -x "${cache_root}/temporal-v${TEMPORAL_VERSION}/temporal" ]] ||
  missing+=("temporal (${TEMPORAL_MODULE}@v${TEMPORAL_VERSION})")
[[ -n "${STRIPE_MOCK_BIN:-}" || -x "${cache_root}/stripe-mock-v${STRIPE_MOCK_VERSION}/stripe-mock" ]] ||
  missing+=("stripe-mock (${STRIPE_MOCK_MODULE}@v${STRIPE_MOCK_VERSION})")
if ((${#missing[@]} > 0)); then
  if ! ${have_go}; then
    {
      echo "setup-tools: error: Go is not on PATH, and these tools are not installed yet:"
      printf '    %s\n' "${missing[@]}"
      echo "  Install Go >= ${GO_MIN_MAJOR}.${GO_MIN_MINOR} (https://go.dev/dl/) and run this again,"
      echo "  or set TEMPORAL_BIN and STRIPE_MOCK_BIN to existing binaries, e.g."
      echo "    TEMPORAL_BIN=/usr/local/bin/temporal STRIPE_MOCK_BIN=/usr/local/bin/stripe-mock bash scripts/setup-tools.sh"
      echo "  (cache searched: ${cache_root})"
    } >&2
    exit 1
  fi
  check_go_version
fi

# --- temporal ---------------------------------------------------------------------------------------
temporal_bin="$(resolve temporal TEMPORAL_BIN "${TEMPORAL_VERSION}" "${TEMPORAL_MODULE}" "${TEMPORAL_LDFLAGS}")"
temporal_out="$("${temporal_bin}" --version 2>&1)" || die "'${temporal_bin} --version' failed: ${temporal_out}"
temporal_out="${temporal_out%%$'\n'*}"
temporal_note=""
if [[ "${temporal_out}" == "temporal version ${TEMPORAL_VERSION} "* || "${temporal_out}" == "temporal version ${TEMPORAL_VERSION}" ]]; then
  : # a release build, or one built by this script
elif [[ "${temporal_out}" == "temporal version 0.0.0-DEV"* ]]; then
  # A plain `go install` (no version linker flag). Its module version is in the Go build info.
  if ${have_go} && mod_line="$(go version -m "${temporal_bin}" 2>/dev/null | grep -E $'^\tmod\tgithub.com/temporalio/cli\t')"; then
    mod_version="$(cut -f4 <<<"${mod_line}")" # "\tmod\t<path>\t<version>\t<sum>"
    [[ "${mod_version}" == "v${TEMPORAL_VERSION}" ]] ||
      die "${temporal_bin} was built from github.com/temporalio/cli ${mod_version}, expected v${TEMPORAL_VERSION}${TEMPORAL_BIN:+ (from TEMPORAL_BIN)}; remove it and run this again"
    temporal_note=" [go install build of cli v${TEMPORAL_VERSION}]"
  elif [[ "${temporal_out}" == *"(Server ${TEMPORAL_EMBEDDED_SERVER},"* ]]; then
    temporal_note=" [development build embedding server ${TEMPORAL_EMBEDDED_SERVER}, as cli v${TEMPORAL_VERSION} does]"
  else
    die "${temporal_bin} reports '${temporal_out}', which is not Temporal CLI v${TEMPORAL_VERSION} (it embeds server ${TEMPORAL_EMBEDDED_SERVER})"
  fi
elif [[ -n "${TEMPORAL_BIN:-}" ]]; then
  warn "TEMPORAL_BIN reports '${temporal_out}'; the project is tested with Temporal CLI v${TEMPORAL_VERSION}"
else
  die "${temporal_bin} reports '${temporal_out}', expected Temporal CLI v${TEMPORAL_VERSION}; remove $(dirname -- "${temporal_bin}") and run this again"
fi
link temporal "${temporal_bin}"

# --- stripe-mock ------------------------------------------------------------------------------------
stripe_bin="$(resolve stripe-mock STRIPE_MOCK_BIN "${STRIPE_MOCK_VERSION}" "${STRIPE_MOCK_MODULE}" "${STRIPE_MOCK_LDFLAGS}")"
stripe_out="$("${stripe_bin}" -version 2>&1)" || die "'${stripe_bin} -version' failed: ${stripe_out}"
stripe_out="${stripe_out%%$'\n'*}"
stripe_version="${stripe_out#stripe-mock }" # prints "stripe-mock <version>"
stripe_note=""
case "${stripe_version}" in
  "${STRIPE_MOCK_VERSION}" | "v${STRIPE_MOCK_VERSION}") ;;
  master) # a plain `go install` leaves main.version at "master"; the module version is in the build info
    if ${have_go} && mod_line="$(go version -m "${stripe_bin}" 2>/dev/null | grep -E $'^\tmod\tgithub.com/stripe/stripe-mock\t')"; then
      mod_version="$(cut -f4 <<<"${mod_line}")"
      [[ "${mod_version}" == "v${STRIPE_MOCK_VERSION}" ]] ||
        warn "${stripe_bin} was built from github.com/stripe/stripe-mock ${mod_version}, expected v${STRIPE_MOCK_VERSION}"
      stripe_note=" [go install build of ${mod_version}]"
    fi
    ;;
  *) warn "${stripe_bin} reports '${stripe_out}', expected stripe-mock ${STRIPE_MOCK_VERSION}" ;;
esac
link stripe-mock "${stripe_bin}"

echo "temporal:    ${bin_dir}/temporal -> ${temporal_bin}${TEMPORAL_BIN:+ (TEMPORAL_BIN)}: ${temporal_out}${temporal_note}"
echo "stripe-mock: ${bin_dir}/stripe-mock -> ${stripe_bin}${STRIPE_MOCK_BIN:+ (STRIPE_MOCK_BIN)}: ${stripe_out}${stripe_note}"
