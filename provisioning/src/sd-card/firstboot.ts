// The script cloud-init runs once on the first boot (runcmd). It installs Node.js and Brána, makes
// the service account, installs the systemd units shipped in gateway/systemd and starts brana.target.
// Its settings come from /etc/brana/install.env, so the script itself is the same on every card.

/** The units of gateway/systemd the first boot installs and enables (brana.target pulls in the rest). */
export const GATEWAY_UNITS = [
  'brana.target',
  'brana-gateway.service',
  'brana-firmware-rt.service',
  'brana-firmware-fieldbus.service',
] as const;

export const FIRSTBOOT_PATH = '/usr/local/lib/brana/firstboot.sh';
export const INSTALL_ENV_PATH = '/etc/brana/install.env';
export const AGENT_CONFIG_PATH = '/etc/brana/agent.yaml';
export const FIRSTBOOT_LOG = '/var/log/brana-firstboot.log';

export const FIRSTBOOT_SCRIPT = `#!/bin/sh
# Brána first boot (written by brana-provision sd-card; run once by cloud-init). Log: ${FIRSTBOOT_LOG}
set -eu
exec >>${FIRSTBOOT_LOG} 2>&1
echo "brana-firstboot: start $(date -Is)"
. ${INSTALL_ENV_PATH}
export DEBIAN_FRONTEND=noninteractive

# Node.js 20.19 or newer runs Brána (tsx, no build step). Debian 13 (trixie) ships 20.19 as nodejs;
# build-essential and python3 build the GPIO binding (onoff/epoll) for this board.
apt-get update -q
apt-get install -y -q nodejs npm git ca-certificates curl socat build-essential python3 polkitd
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' || {
  echo "brana-firstboot: Node.js $(node --version) is older than 20.19. Fix: flash a Raspberry Pi OS image based on Debian 13 (trixie)"
  exit 1
}

if [ ! -f /opt/brana/package.json ]; then
  case "$BRANA_SOURCE_KIND" in
    tarball)
      curl -fsSL --retry 5 -o /tmp/brana.tar.gz "$BRANA_SOURCE_URL"
      if [ -n "\${BRANA_SOURCE_SHA256:-}" ]; then echo "$BRANA_SOURCE_SHA256  /tmp/brana.tar.gz" | sha256sum -c -; fi
      mkdir -p /opt/brana
      tar -xzf /tmp/brana.tar.gz -C /opt/brana --strip-components=1
      rm -f /tmp/brana.tar.gz ;;
    git)
      git clone --depth 1 \${BRANA_SOURCE_REF:+--branch "$BRANA_SOURCE_REF"} "$BRANA_SOURCE_URL" /opt/brana ;;
  esac
fi
cd /opt/brana
[ -d node_modules ] || npm ci --no-audit --no-fund

# The service account the units run as; gpio and dialout for the relays, inputs and RS-485 adapters.
id brana >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/brana --shell /usr/sbin/nologin brana
for g in gpio dialout; do
  if getent group "$g" >/dev/null; then usermod -a -G "$g" brana; fi
done
ln -sf /opt/brana/gateway/bin/brana-gateway.mjs /usr/bin/brana-gateway
ln -sf /opt/brana/firmware-ts/bin/brana-firmware.mjs /usr/bin/brana-firmware

# The agent config holds the single-use claim token: readable by the agent only.
chown brana:brana ${AGENT_CONFIG_PATH}
chmod 0600 ${AGENT_CONFIG_PATH}

for unit in ${GATEWAY_UNITS.join(' ')}; do
  install -m 0644 "/opt/brana/gateway/systemd/$unit" /etc/systemd/system/
done
systemctl daemon-reload
systemctl enable ${GATEWAY_UNITS.join(' ')}
systemctl start brana.target

# The claim token now lives in ${AGENT_CONFIG_PATH} only: scrub it from the card's FAT partition,
# which anyone holding the card can read (cloud-init does not read user-data again for this instance).
for f in /boot/firmware/user-data /boot/user-data; do
  if [ -f "$f" ]; then sed -E -i 's/brc_[A-Za-z0-9_-]{32}/brc_used-see-etc-brana/' "$f"; fi
done
echo "brana-firstboot: done $(date -Is)"
`;

/**
 * The agent restarts the firmware for a config trial with \`systemctl restart\` (agent config
 * restartCommand) while running as the unprivileged brana user: polkit must allow exactly that.
 */
export const POLKIT_RULE_PATH = '/etc/polkit-1/rules.d/50-brana.rules';
export const POLKIT_RULE = `// Written by brana-provision: the Brána agent (user brana) may restart its own firmware units.
polkit.addRule(function (action, subject) {
  if (action.id === "org.freedesktop.systemd1.manage-units" && subject.user === "brana") {
    var unit = action.lookup("unit");
    var verb = action.lookup("verb");
    if ((unit === "brana-firmware-rt.service" || unit === "brana-firmware-fieldbus.service") &&
        (verb === "restart" || verb === "start" || verb === "stop")) {
      return polkit.Result.YES;
    }
  }
});
`;
