package sim

import (
	"errors"
	"fmt"

	"github.com/minewatch/minewatch/exporters/power"
)

// DecodePower decodes, defaults and validates a mine's power section. It
// returns nil when the mine has none.
func DecodePower(m *Mine) (*PowerSection, error) {
	var p PowerSection
	ok, err := Decode(&m.Power, &p)
	if err != nil {
		return nil, fmt.Errorf("mine %s: power: %w", m.ID, err)
	}
	if !ok {
		return nil, nil
	}
	p.SetDefaults()
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("mine %s: %w", m.ID, err)
	}
	return &p, nil
}

// StartPower starts the simulated gateways of every mine in the scenario.
// listen, when not nil, rewrites each gateway's listen address. On error,
// the gateways already started are closed.
func StartPower(s *Scenario, listen func(string) (string, error)) ([]*PowerGateway, error) {
	var started []*PowerGateway
	fail := func(err error) ([]*PowerGateway, error) {
		for _, g := range started {
			_ = g.Close()
		}
		return nil, err
	}
	for i := range s.Mines {
		mine := &s.Mines[i]
		section, err := DecodePower(mine)
		if err != nil {
			return fail(err)
		}
		if section == nil {
			continue
		}
		for _, gc := range section.Gateways {
			var units []GatewayUnit
			for _, tc := range gc.Terminals {
				ref := tc.Map
				if !power.IsBuiltinMap(ref) {
					ref = s.Path(ref)
				}
				m, err := power.LoadMap(ref)
				if err != nil {
					return fail(fmt.Errorf("mine %s: terminal %s: %w", mine.ID, tc.Terminal, err))
				}
				t := NewSimTerminal(tc, m, mine, s.Clock)
				units = append(units, GatewayUnit{ID: uint8(tc.UnitID), Source: t, Faults: tc.Faults, States: t.States})
			}
			addr := gc.Listen
			if listen != nil {
				if addr, err = listen(addr); err != nil {
					return fail(fmt.Errorf("mine %s: gateway %s: %w", mine.ID, gc.Name, err))
				}
			}
			g, err := StartPowerGateway(gc.Name, addr, gc.Framing, units)
			if err != nil {
				return fail(fmt.Errorf("mine %s: %w", mine.ID, err))
			}
			started = append(started, g)
		}
	}
	if len(started) == 0 {
		return nil, errors.New("no mine in the scenario has a power section")
	}
	return started, nil
}
