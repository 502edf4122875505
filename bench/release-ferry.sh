# Sourced by the benchmarks: sets FERRY_BIN to a release build of ferry, building it unless
# FERRY_BIN is already set (FERRY_SCRATCH picks the build folder, SWIFT the toolchain).
if [ -z "${FERRY_BIN:-}" ]; then
  echo "Building ferry (release)…"
  scratch=${FERRY_SCRATCH:+--scratch-path $FERRY_SCRATCH}
  ${SWIFT:-swift} build -c release --product ferry $scratch >/dev/null
  FERRY_BIN="$(${SWIFT:-swift} build -c release $scratch --show-bin-path)/ferry"
fi
