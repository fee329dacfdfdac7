package positioning

import "math"

// grid is a uniform grid over x and y that finds the nearest point to a
// query without comparing it with every point.
type grid struct {
	cell  float64
	cells map[[2]int32][]int
	pts   [][3]float64
	// minC and maxC bound the occupied cells, so a search stops once its
	// ring covers them all.
	minC [2]int32
	maxC [2]int32
}

func newGrid(cell float64, pts [][3]float64) *grid {
	g := &grid{cell: cell, cells: make(map[[2]int32][]int, len(pts)), pts: pts}
	for i, p := range pts {
		c := g.cellOf(p[0], p[1])
		if i == 0 {
			g.minC, g.maxC = c, c
		}
		for d := range 2 {
			g.minC[d] = min(g.minC[d], c[d])
			g.maxC[d] = max(g.maxC[d], c[d])
		}
		g.cells[c] = append(g.cells[c], i)
	}
	return g
}

func (g *grid) cellOf(x, y float64) [2]int32 {
	return [2]int32{int32(math.Floor(x / g.cell)), int32(math.Floor(y / g.cell))}
}

// nearest returns the 3D distance from q to the nearest point, or false
// when the grid is empty. It searches rings of cells outwards from q's
// cell. Every point in ring r+1 is at least r cells away in x or y, so
// the search stops when the best distance is within r*cell.
func (g *grid) nearest(q [3]float64) (float64, bool) {
	if len(g.pts) == 0 {
		return 0, false
	}
	c := g.cellOf(q[0], q[1])
	best := math.Inf(1)
	maxRing := int32(0)
	for d := range 2 {
		maxRing = max(maxRing, c[d]-g.minC[d], g.maxC[d]-c[d])
	}
	for r := int32(0); r <= maxRing; r++ {
		for dx := -r; dx <= r; dx++ {
			for dy := -r; dy <= r; dy++ {
				if max(abs32(dx), abs32(dy)) != r {
					continue
				}
				for _, i := range g.cells[[2]int32{c[0] + dx, c[1] + dy}] {
					p := g.pts[i]
					d := math.Sqrt(sq(p[0]-q[0]) + sq(p[1]-q[1]) + sq(p[2]-q[2]))
					best = math.Min(best, d)
				}
			}
		}
		if best <= float64(r)*g.cell {
			break
		}
	}
	return best, true
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

func sq(v float64) float64 { return v * v }
