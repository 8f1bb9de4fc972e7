/* SPDX-License-Identifier: MIT */
/* Writers without the private key pin the store's public key, as ssh pins
 * host keys: ~/.config/keyhole/known_stores (KEYHOLE_KNOWN_STORES) maps a
 * store id to its key's fingerprint, recorded and printed on first use;
 * --pubkey-fingerprint / KEYHOLE_PUBKEY_FINGERPRINT pins it explicitly. A
 * mismatch is refused loudly with exit CLI_EPIN. */
#ifndef KH_CLI_PIN_H
#define KH_CLI_PIN_H

#include <stdint.h>

#include "keystore.h"

/* 0 when the key matches (or was just recorded), else an exit code after
 * printing why. */
int cli_pin_check(const char *store_id, const uint8_t pk[KS_PK_BYTES]);

#endif
