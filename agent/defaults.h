/* SPDX-License-Identifier: MIT */
/* The one set of default paths, shared by keyholed, the keyhole CLI and
 * doctor; deploy/keyholed.service, the .deb and the docs use the same ones.
 * State (store, key) is private to root; config (policy, keyholed.conf,
 * writers) is readable. */
#ifndef KH_DEFAULTS_H
#define KH_DEFAULTS_H

#define KH_STATE_DIR "/var/lib/keyhole" /* 0700 */
#define KH_CONFIG_DIR "/etc/keyhole"	/* 0755 */
#define KH_DEFAULT_STORE KH_STATE_DIR "/store.json"
#define KH_DEFAULT_KEY_FILE KH_STATE_DIR "/agent.key" /* 0400 */
#define KH_DEFAULT_POLICY KH_CONFIG_DIR "/policy.json"
#define KH_DEFAULT_CONFIG KH_CONFIG_DIR "/keyholed.conf"
#define KH_DEFAULT_SOCKET "/run/keyhole/agent.sock"
#define KH_DEFAULT_ADMIN_SOCKET "/run/keyhole-admin/admin.sock"
#define KH_DEFAULT_AUDIT_LOG "/var/log/keyhole/audit.log"

#ifndef KH_VERSION
#define KH_VERSION "unknown"
#endif

#endif
