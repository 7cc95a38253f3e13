#!/bin/sh
# One-shot job (temporalio/admin-tools image, Temporal CLI): once the server answers SERVING, makes sure
# the namespace exists and registers the billing platform's custom search attributes on it, so ops can
# filter sessions in the Temporal UI. The names and types match workflows/search-attributes.ts.
# Idempotent: an existing namespace is left as it is, an attribute that already exists is accepted.
set -eu

: "${TEMPORAL_ADDRESS:=temporal:7233}"
: "${TEMPORAL_NAMESPACE:=default}"
: "${NAMESPACE_RETENTION:=168h}" # closed workflow histories; billing records live in PostgreSQL
: "${SEARCH_ATTRIBUTES:=ChargePointId OrganizationId IdTag SessionStatus BillingKind BillingStatus BillingPeriod}"
: "${SEARCH_ATTRIBUTE_TYPE:=Keyword}"
: "${TEMPORAL_CLI:=temporal}"
: "${WAIT_SECONDS:=180}"

log() { echo "temporal-setup: $*"; }
fail() {
  echo "temporal-setup: error: $*" >&2
  exit 1
}

address="${TEMPORAL_ADDRESS}"
# Like Temporal's own compose create-namespace.sh: dial the IPv4 address of the server's host name.
host="${TEMPORAL_ADDRESS%:*}"
port="${TEMPORAL_ADDRESS##*:}"
if command -v getent >/dev/null 2>&1; then
  ip="$(getent ahosts "${host}" 2>/dev/null | awk '/STREAM/ && $1 ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/ { print $1; exit }')" || ip=""
  if [ -n "${ip}" ] && [ "${ip}" != "${host}" ]; then
    address="${ip}:${port}"
    log "${TEMPORAL_ADDRESS} resolves to ${address}"
  fi
fi

t() { "${TEMPORAL_CLI}" "$@" --address "${address}"; }

log "waiting for the Temporal server at ${TEMPORAL_ADDRESS} to report SERVING"
waited=0
until t operator cluster health 2>/dev/null | grep -q SERVING; do
  waited=$((waited + 2))
  [ "${waited}" -lt "${WAIT_SECONDS}" ] || fail "the Temporal server at ${TEMPORAL_ADDRESS} is not SERVING after ${WAIT_SECONDS}s"
  sleep 2
done

if t operator namespace describe --namespace "${TEMPORAL_NAMESPACE}" >/dev/null 2>&1; then
  log "namespace ${TEMPORAL_NAMESPACE} exists"
else
  log "creating namespace ${TEMPORAL_NAMESPACE} (retention ${NAMESPACE_RETENTION})"
  if ! out="$(t operator namespace create --namespace "${TEMPORAL_NAMESPACE}" --retention "${NAMESPACE_RETENTION}" 2>&1)"; then
    case "${out}" in
      *"already exists"* | *"already registered"*) log "namespace ${TEMPORAL_NAMESPACE} was created concurrently" ;;
      *) fail "creating namespace ${TEMPORAL_NAMESPACE} failed: ${out}" ;;
    esac
  fi
  # A new namespace reaches every service's namespace cache within a few seconds.
  waited=0
  until t operator namespace describe --namespace "${TEMPORAL_NAMESPACE}" >/dev/null 2>&1; do
    waited=$((waited + 1))
    [ "${waited}" -lt 60 ] || fail "namespace ${TEMPORAL_NAMESPACE} is not visible 60s after creating it"
    sleep 1
  done
fi

# Retried: right after a namespace is created, describe already finds it but the search-attribute calls
# can answer "Namespace ... is not found" until the server's namespace cache refreshes (about 10s).
for name in ${SEARCH_ATTRIBUTES}; do
  waited=0
  while :; do
    if out="$(t operator search-attribute create --namespace "${TEMPORAL_NAMESPACE}" \
      --name "${name}" --type "${SEARCH_ATTRIBUTE_TYPE}" 2>&1)"; then
      log "search attribute ${name} (${SEARCH_ATTRIBUTE_TYPE}) registered on ${TEMPORAL_NAMESPACE}"
      break
    fi
    case "${out}" in
      *"already exists"*)
        log "search attribute ${name} already exists on ${TEMPORAL_NAMESPACE}"
        break
        ;;
    esac
    waited=$((waited + 2))
    [ "${waited}" -lt 60 ] || fail "registering search attribute ${name} on ${TEMPORAL_NAMESPACE} failed: ${out}"
    sleep 2
  done
done

# Wait until the server lists every attribute with the expected type, so the app services that start
# after this job can set them on their first workflow.
waited=0
while :; do
  listing="$(t operator search-attribute list --namespace "${TEMPORAL_NAMESPACE}" 2>&1)" || listing=""
  missing=""
  for name in ${SEARCH_ATTRIBUTES}; do
    listed_type="$(echo "${listing}" | awk -v n="${name}" '$1 == n { print $2; exit }')"
    if [ -z "${listed_type}" ]; then
      missing="${missing} ${name}"
    elif [ "${listed_type}" != "${SEARCH_ATTRIBUTE_TYPE}" ]; then
      fail "search attribute ${name} exists on ${TEMPORAL_NAMESPACE} as ${listed_type}, not ${SEARCH_ATTRIBUTE_TYPE}"
    fi
  done
  [ -n "${missing}" ] || break
  waited=$((waited + 2))
  [ "${waited}" -lt 60 ] || fail "not listed on ${TEMPORAL_NAMESPACE} after 60s:${missing}"
  sleep 2
done
log "done: namespace ${TEMPORAL_NAMESPACE} has search attributes ${SEARCH_ATTRIBUTES}"
