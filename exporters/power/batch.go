package power

import (
	"cmp"
	"slices"
)

// Batch is one read request: a run of neighbouring addresses of one table
// and the map registers it carries.
type Batch struct {
	Table string
	Start uint16
	// Count is the number of registers, or of bits for coils and discrete
	// inputs.
	Count     uint16
	Registers []*Register
}

// Plan groups the map's registers into as few reads as the device allows:
// neighbours of one table share a read while the read stays within the
// map's size limit and does not span a marked gap. Unmapped addresses
// between two registers are read along when no gap covers them.
func (m *Map) Plan() []Batch {
	var batches []Batch
	for _, table := range tables {
		var regs []*Register
		for i := range m.Registers {
			if m.Registers[i].Table == table {
				regs = append(regs, &m.Registers[i])
			}
		}
		slices.SortStableFunc(regs, func(a, b *Register) int { return cmp.Compare(a.Address, b.Address) })
		limit := m.MaxReadRegisters
		if table == TableCoil || table == TableDiscreteInput {
			limit = m.MaxReadBits
		}

		var cur *Batch
		for _, r := range regs {
			end := int(r.Address) + int(r.Width()) // exclusive
			if cur != nil {
				newEnd := max(end, int(cur.Start)+int(cur.Count))
				if newEnd-int(cur.Start) <= limit && !m.gapBetween(table, int(cur.Start), newEnd) {
					cur.Count = uint16(newEnd - int(cur.Start))
					cur.Registers = append(cur.Registers, r)
					continue
				}
				batches = append(batches, *cur)
			}
			cur = &Batch{Table: table, Start: r.Address, Count: r.Width(), Registers: []*Register{r}}
		}
		if cur != nil {
			batches = append(batches, *cur)
		}
	}
	return batches
}

// gapBetween reports whether a marked gap of table overlaps the address
// range [from, to).
func (m *Map) gapBetween(table string, from, to int) bool {
	for _, g := range m.Gaps {
		if g.Table == table && int(g.From) < to && int(g.To) >= from {
			return true
		}
	}
	return false
}
