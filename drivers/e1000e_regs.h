/*
 * e1000e_regs.h - the Intel 82574 GbE controller as drivers/e1000e.c uses it:
 * register offsets, bit fields and legacy descriptor layouts (82574 GbE
 * Controller Family datasheet, chapter 10 "Device registers" and 7.1/7.2
 * "Receive/Transmit functionality"), plus the pure arithmetic of the driver
 * (ring indices, MAC address extraction, IVAR, RCTL/TCTL values) as static
 * inline functions, so the host unit tests run the code that ships.
 */
#ifndef KEEL_DRIVERS_E1000E_REGS_H
#define KEEL_DRIVERS_E1000E_REGS_H

#include <stdbool.h>
#include <stdint.h>

/* ---- Register offsets in BAR0 (datasheet 10.1.1, table 10-2). ---- */

#define E1000E_CTRL	0x00000
#define E1000E_STATUS	0x00008
#define E1000E_EECD	0x00010
#define E1000E_EERD	0x00014
#define E1000E_CTRL_EXT	0x00018
#define E1000E_ICR	0x000C0
#define E1000E_ITR	0x000C4
#define E1000E_ICS	0x000C8
#define E1000E_IMS	0x000D0
#define E1000E_IMC	0x000D8
#define E1000E_EIAC	0x000DC
#define E1000E_IAM	0x000E0
#define E1000E_IVAR	0x000E4
#define E1000E_RCTL	0x00100
#define E1000E_TCTL	0x00400
#define E1000E_TIPG	0x00410
#define E1000E_RDBAL	0x02800
#define E1000E_RDBAH	0x02804
#define E1000E_RDLEN	0x02808
#define E1000E_RDH	0x02810
#define E1000E_RDT	0x02818
#define E1000E_RDTR	0x02820
#define E1000E_RXDCTL	0x02828
#define E1000E_TDBAL	0x03800
#define E1000E_TDBAH	0x03804
#define E1000E_TDLEN	0x03808
#define E1000E_TDH	0x03810
#define E1000E_TDT	0x03818
#define E1000E_TXDCTL	0x03828
#define E1000E_TARC0	0x03840
#define E1000E_RXCSUM	0x05000
#define E1000E_RFCTL	0x05008
#define E1000E_MTA	0x05200 /* 128 x 32 bits */
#define E1000E_MTA_COUNT 128
#define E1000E_RAL0	0x05400
#define E1000E_RAH0	0x05404

/* CTRL (10.2.2.1). */
#define E1000E_CTRL_FD		(1u << 0)
#define E1000E_CTRL_ASDE	(1u << 5)  /* auto-speed detection */
#define E1000E_CTRL_SLU		(1u << 6)  /* set link up */
#define E1000E_CTRL_ILOS	(1u << 7)  /* invert loss-of-signal */
#define E1000E_CTRL_FRCSPD	(1u << 11)
#define E1000E_CTRL_FRCDPX	(1u << 12)
#define E1000E_CTRL_RST		(1u << 26) /* self-clearing */
#define E1000E_CTRL_VME		(1u << 30)
#define E1000E_CTRL_PHY_RST	(1u << 31)

/* STATUS (10.2.2.2). */
#define E1000E_STATUS_FD	(1u << 0)
#define E1000E_STATUS_LU	(1u << 1)

/* EECD (10.2.2.3): the MAC finished loading the NVM after reset. */
#define E1000E_EECD_PRES	(1u << 8)
#define E1000E_EECD_AUTO_RD	(1u << 9)

/* EERD (10.2.2.4): write START with the word address, poll DONE. */
#define E1000E_EERD_START	(1u << 0)
#define E1000E_EERD_DONE	(1u << 1)
#define E1000E_EERD_ADDR_SHIFT	2
#define E1000E_EERD_DATA_SHIFT	16

/* CTRL_EXT (10.2.2.5). */
#define E1000E_CTRL_EXT_EIAME	(1u << 24)
#define E1000E_CTRL_EXT_IAME	(1u << 27)
#define E1000E_CTRL_EXT_DRV_LOAD (1u << 28) /* tells firmware a driver runs */
#define E1000E_CTRL_EXT_PBA_CLR	(1u << 31)

/* Interrupt causes: ICR, ICS, IMS, IMC share the layout (10.2.4.1). */
#define E1000E_ICR_TXDW		(1u << 0)  /* transmit descriptor written back */
#define E1000E_ICR_TXQE		(1u << 1)
#define E1000E_ICR_LSC		(1u << 2)  /* link status change */
#define E1000E_ICR_RXDMT0	(1u << 4)  /* rx descriptors below threshold */
#define E1000E_ICR_RXO		(1u << 6)  /* receiver overrun */
#define E1000E_ICR_RXT0		(1u << 7)  /* receiver timer (frame received) */
#define E1000E_ICR_RXQ0		(1u << 20) /* MSI-X: rx queue 0 */
#define E1000E_ICR_RXQ1		(1u << 21)
#define E1000E_ICR_TXQ0		(1u << 22) /* MSI-X: tx queue 0 */
#define E1000E_ICR_TXQ1		(1u << 23)
#define E1000E_ICR_OTHER	(1u << 24) /* MSI-X: any other cause */
#define E1000E_ICR_ASSERTED	(1u << 31)

/* What the driver unmasks: in MSI-X mode the queues report RXQ0/TXQ0 and
 * the rest through OTHER (10.2.4.9); in MSI/INTx mode RXT0/TXDW. */
#define E1000E_IMS_MSIX (E1000E_ICR_RXQ0 | E1000E_ICR_TXQ0 | \
			 E1000E_ICR_OTHER | E1000E_ICR_LSC)
#define E1000E_IMS_LEGACY (E1000E_ICR_RXT0 | E1000E_ICR_TXDW | \
			   E1000E_ICR_LSC | E1000E_ICR_RXO | E1000E_ICR_RXDMT0)

/* IVAR (10.2.4.9): four bits per cause - vector in 2:0, valid in 3. */
#define E1000E_IVAR_VALID	0x8u
#define E1000E_IVAR_RXQ0_SHIFT	0
#define E1000E_IVAR_TXQ0_SHIFT	8
#define E1000E_IVAR_OTHER_SHIFT	16
#define E1000E_MSIX_VECTORS	3 /* RXQ0, TXQ0, other */

/* RCTL (10.2.5.1). */
#define E1000E_RCTL_EN		(1u << 1)
#define E1000E_RCTL_SBP		(1u << 2)
#define E1000E_RCTL_UPE		(1u << 3)
#define E1000E_RCTL_MPE		(1u << 4)
#define E1000E_RCTL_LPE		(1u << 5)
#define E1000E_RCTL_RDMTS_HALF	(0u << 8)
#define E1000E_RCTL_DTYP_MASK	(3u << 10)
#define E1000E_RCTL_BAM		(1u << 15) /* accept broadcast */
#define E1000E_RCTL_BSIZE_SHIFT	16
#define E1000E_RCTL_BSIZE_MASK	(3u << 16)
#define E1000E_RCTL_BSEX	(1u << 25) /* BSIZE x 16 */
#define E1000E_RCTL_SECRC	(1u << 26) /* strip the Ethernet CRC */

/* RFCTL (10.2.5.3): extended rx descriptors only with EXSTEN. */
#define E1000E_RFCTL_EXSTEN	(1u << 15)

/* TCTL (10.2.6.1). */
#define E1000E_TCTL_EN		(1u << 1)
#define E1000E_TCTL_PSP		(1u << 3)  /* pad short packets */
#define E1000E_TCTL_CT_SHIFT	4	   /* collision threshold */
#define E1000E_TCTL_COLD_SHIFT	12	   /* collision distance */
#define E1000E_TCTL_RTLC	(1u << 24) /* retransmit on late collision */
#define E1000E_TCTL_CT_DEFAULT	0x0F	   /* IEEE 802.3: 16 attempts */
#define E1000E_TCTL_COLD_FD	0x3F	   /* 64-byte time, full duplex */

/* TIPG (10.2.6.2): IPGT 8, IPGR1 8, IPGR2 6 for copper (its reset value). */
#define E1000E_TIPG_COPPER	(8u | (8u << 10) | (6u << 20))

/* TARC0 (10.2.6.11): bit 10 enables transmit queue 0 (set at reset;
 * QEMU's model transmits nothing without it). */
#define E1000E_TARC_ENABLE	(1u << 10)

/* RAH (10.2.5.16): address valid. */
#define E1000E_RAH_AV		(1u << 31)

/* ---- Legacy descriptors (7.1.4, 7.2.10.1), 16 bytes each. ---- */

struct e1000e_rx_desc {
	uint64_t addr;
	uint16_t length;
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};

#define E1000E_RXD_STAT_DD	(1u << 0) /* descriptor done */
#define E1000E_RXD_STAT_EOP	(1u << 1) /* end of packet */
/* RXE, IPE, TCPE, CXE, SE, CE: a frame with any of these is bad. The
 * checksum errors (IPE, TCPE) are left to the stack. */
#define E1000E_RXD_ERR_FRAME	(0x01u | 0x02u | 0x04u | 0x10u | 0x80u)

struct e1000e_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
};

#define E1000E_TXD_CMD_EOP	(1u << 0) /* end of packet */
#define E1000E_TXD_CMD_IFCS	(1u << 1) /* insert the FCS */
#define E1000E_TXD_CMD_RS	(1u << 3) /* report status (write DD back) */
#define E1000E_TXD_STAT_DD	(1u << 0)

_Static_assert(sizeof(struct e1000e_rx_desc) == 16, "legacy rx descriptor");
_Static_assert(sizeof(struct e1000e_tx_desc) == 16, "legacy tx descriptor");

/* Ring lengths: RDLEN/TDLEN must be multiples of 128 bytes (10.2.5.6),
 * i.e. of 8 descriptors; at most 65536 descriptors (16-bit RDH/RDT). */
#define E1000E_RING_ALIGN_DESCS 8

/* ---- Pure helpers. ---- */

/* The index after / before i in a ring of n descriptors. */
static inline unsigned e1000e_ring_next(unsigned i, unsigned n)
{
	return i + 1 == n ? 0 : i + 1;
}

static inline unsigned e1000e_ring_prev(unsigned i, unsigned n)
{
	return i == 0 ? n - 1 : i - 1;
}

/* Descriptors handed to the device and not yet reclaimed, from the oldest
 * (clean) to the next one software fills (tail). */
static inline unsigned e1000e_ring_used(unsigned clean, unsigned tail,
					unsigned n)
{
	return tail >= clean ? tail - clean : n - clean + tail;
}

/* Descriptors software may still fill. One is always kept empty: the
 * device sees the ring empty when head == tail (7.2.3), so a completely
 * full ring would look empty. */
static inline unsigned e1000e_ring_space(unsigned clean, unsigned tail,
					 unsigned n)
{
	return n - 1 - e1000e_ring_used(clean, tail, n);
}

/* Whether n descriptors make a valid ring length. */
static inline bool e1000e_ring_size_ok(unsigned n)
{
	return n >= E1000E_RING_ALIGN_DESCS && n <= 65536 &&
	       n % E1000E_RING_ALIGN_DESCS == 0;
}

/* A usable station address: not all zeros, not multicast/broadcast
 * (I/G bit, the low bit of the first octet). */
static inline bool e1000e_mac_valid(const uint8_t mac[6])
{
	if (mac[0] & 1)
		return false;
	return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) != 0;
}

/* RAL0/RAH0 (10.2.5.15/16) hold the address low octet first; RAH.AV says
 * the entry is valid. Returns whether it gave a usable address. */
static inline bool e1000e_mac_from_ra(uint32_t ral, uint32_t rah,
				      uint8_t mac[6])
{
	mac[0] = (uint8_t)ral;
	mac[1] = (uint8_t)(ral >> 8);
	mac[2] = (uint8_t)(ral >> 16);
	mac[3] = (uint8_t)(ral >> 24);
	mac[4] = (uint8_t)rah;
	mac[5] = (uint8_t)(rah >> 8);
	return (rah & E1000E_RAH_AV) && e1000e_mac_valid(mac);
}

/* The inverse: what to write into RAL0/RAH0 for mac (with AV set). */
static inline void e1000e_mac_to_ra(const uint8_t mac[6], uint32_t *ral,
				    uint32_t *rah)
{
	*ral = (uint32_t)mac[0] | (uint32_t)mac[1] << 8 |
	       (uint32_t)mac[2] << 16 | (uint32_t)mac[3] << 24;
	*rah = (uint32_t)mac[4] | (uint32_t)mac[5] << 8 | E1000E_RAH_AV;
}

/* NVM words 0-2 are the Ethernet address, low octet first in each word
 * (datasheet 6.2.1). */
static inline bool e1000e_mac_from_eeprom(const uint16_t words[3],
					  uint8_t mac[6])
{
	for (unsigned i = 0; i < 3; i++) {
		mac[2 * i] = (uint8_t)words[i];
		mac[2 * i + 1] = (uint8_t)(words[i] >> 8);
	}
	return e1000e_mac_valid(mac);
}

/* EERD value that starts a read of NVM word addr (10.2.2.4). */
static inline uint32_t e1000e_eerd_start(unsigned addr)
{
	return (uint32_t)(addr & 0x3FFF) << E1000E_EERD_ADDR_SHIFT |
	       E1000E_EERD_START;
}

/* IVAR for nvec MSI-X vectors (1..3): rx queue 0 on vector 0, tx queue 0
 * on vector 1, other causes (link) on vector 2; with fewer vectors the
 * later causes share the last one. 0 for nvec 0. */
static inline uint32_t e1000e_ivar_encode(unsigned nvec)
{
	if (nvec == 0)
		return 0;
	unsigned last = nvec - 1;
	unsigned rx = 0;
	unsigned tx = last < 1 ? last : 1;
	unsigned other = last < 2 ? last : 2;

	return (E1000E_IVAR_VALID | rx) << E1000E_IVAR_RXQ0_SHIFT |
	       (E1000E_IVAR_VALID | tx) << E1000E_IVAR_TXQ0_SHIFT |
	       (E1000E_IVAR_VALID | other) << E1000E_IVAR_OTHER_SHIFT;
}

/* RCTL: receiver on, broadcasts accepted, CRC stripped, legacy
 * descriptors, RDMTS 1/2, no long frames (1522 bytes at most), with
 * receive buffers of buf_size bytes (BSIZE/BSEX encoding of 10.2.5.1).
 * 0 when the size has no encoding. */
static inline uint32_t e1000e_rctl_compose(unsigned buf_size)
{
	uint32_t bsize, bsex = 0;

	switch (buf_size) {
	case 2048: bsize = 0; break;
	case 1024: bsize = 1; break;
	case 512: bsize = 2; break;
	case 256: bsize = 3; break;
	case 16384: bsize = 1; bsex = E1000E_RCTL_BSEX; break;
	case 8192: bsize = 2; bsex = E1000E_RCTL_BSEX; break;
	case 4096: bsize = 3; bsex = E1000E_RCTL_BSEX; break;
	default: return 0;
	}
	return E1000E_RCTL_EN | E1000E_RCTL_BAM | E1000E_RCTL_SECRC |
	       E1000E_RCTL_RDMTS_HALF | bsize << E1000E_RCTL_BSIZE_SHIFT | bsex;
}

/* TCTL: transmitter on, short packets padded, the IEEE collision
 * threshold and the full-duplex collision distance (10.2.6.1), retransmit
 * on late collision. */
static inline uint32_t e1000e_tctl_compose(void)
{
	return E1000E_TCTL_EN | E1000E_TCTL_PSP |
	       E1000E_TCTL_CT_DEFAULT << E1000E_TCTL_CT_SHIFT |
	       E1000E_TCTL_COLD_FD << E1000E_TCTL_COLD_SHIFT |
	       E1000E_TCTL_RTLC;
}

#endif
