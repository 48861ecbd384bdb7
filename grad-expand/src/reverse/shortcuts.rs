//! Exact algebraic shortcuts over the operator rules of `rules.rs`: patterns whose reverse
//! the rules would write with more operations, written with fewer and the same bits.

use super::{FrameBuilder, Step, Sweep, literal_value};
use crate::graph::{BinaryOp, Op, ValueId};
use crate::names;
use crate::spell::operand;
use quote::{quote, quote_spanned};

impl Sweep<'_> {
    /// Applies a shortcut to the reverse of `lhs op rhs` if one fits, and says whether it
    /// did (then the operator's rule is not applied).
    pub(super) fn binary_shortcut(
        &mut self,
        id: ValueId,
        op: BinaryOp,
        lhs: ValueId,
        rhs: ValueId,
        frame: &mut FrameBuilder,
    ) -> bool {
        let span = self.graph.node(id).span;
        let adj = names::adjoint(id);
        match op {
            BinaryOp::Add | BinaryOp::Sub => {
                // A doubled adjoint passes on doubled: these operands have no other reader.
                if self.doubled.contains(&id) {
                    self.doubled.extend([lhs, rhs]);
                }
                false
            }
            BinaryOp::Mul if lhs == rhs => {
                // x * x: one contribution of 2·x·adj, not two of x·adj. Doubling the adjoint
                // rather than x gives the same bits (both doublings are exact), and squares
                // that share an adjoint (`dx * dx + dy * dy`) share the doubling, or find it
                // done already.
                let x = self.value(frame, lhs);
                let amount = if self.doubled.contains(&id) {
                    quote_spanned!(span=> #adj * #x)
                } else {
                    quote_spanned!(span=> (#adj + #adj) * #x)
                };
                self.contribute(&mut frame.steps, lhs, amount);
                true
            }
            BinaryOp::Mul => {
                if let Some((y, c)) = self.scaled_square(lhs, rhs) {
                    // c·y·y (written `c * y * y`): one contribution of (2c)·y·adj to y, as for
                    // `y * y`, instead of the product rule through c·y and then c; 2c is folded
                    // here (doubling is exact, so the result is bit for bit 2·(c·y)·adj), and
                    // 2c = 1 (`0.5 * r * r`) costs nothing. Anything else that reads c·y still
                    // reaches y through its own pullback.
                    let y_value = self.value(frame, y);
                    let twice = 2.0 * c;
                    let amount = if twice == 1.0 {
                        quote_spanned!(span=> #adj * #y_value)
                    } else {
                        // In the function's float type when it is generic (`T`, not `{float}`).
                        let twice = proc_macro2::Literal::f64_unsuffixed(twice);
                        let twice = crate::generics::literal(quote!(#twice));
                        quote_spanned!(span=> #adj * (#y_value * #twice))
                    };
                    self.contribute(&mut frame.steps, y, amount);
                    return true;
                }
                if let Some((square, y)) = self.cube(lhs, rhs) {
                    // y·y·y: one contribution of 3·y²·adj to y, with y² the value already
                    // computed, instead of the product rule through y·y and then y (`t * 3.0`
                    // is `t + t + t` bit for bit). When y is a sum of squares (`r2 = dx * dx +
                    // dy * dy`), the 2 of their derivatives is folded in here as a 6.
                    let t = self.value(frame, square);
                    let only_the_cube =
                        self.read_counts[y.0] == 3 && self.read_counts[square.0] == 1;
                    let factor = if only_the_cube && self.doubles_its_adjoint(y) {
                        self.doubled.insert(y);
                        proc_macro2::Literal::f64_unsuffixed(6.0)
                    } else {
                        proc_macro2::Literal::f64_unsuffixed(3.0)
                    };
                    // In the function's float type when it is generic (`T`, not `{float}`).
                    let factor = crate::generics::literal(quote!(#factor));
                    self.contribute(
                        &mut frame.steps,
                        y,
                        quote_spanned!(span=> #adj * (#t * #factor)),
                    );
                    return true;
                }
                false
            }
            BinaryOp::Div => match (self.is_active(lhs), self.is_active(rhs)) {
                (true, true) => {
                    // d(a/b) = da/b - (a/b) db/b: one division serves both partials.
                    let b = self.value(frame, rhs);
                    let out = self.value(frame, id);
                    let scaled = names::partial(id, 0);
                    frame
                        .steps
                        .push(Step::Code(quote_spanned!(span=> let #scaled = #adj / #b;)));
                    self.contribute(&mut frame.steps, lhs, quote!(#scaled));
                    self.contribute(
                        &mut frame.steps,
                        rhs,
                        quote_spanned!(span=> -#scaled * #out),
                    );
                    true
                }
                (false, true) => {
                    // For a nonzero literal numerator c, -out/b = -out²/c: no division (c = 1
                    // is the reciprocal, 1/x, the common case).
                    let c = match literal_value(self.graph, lhs) {
                        Some(c) if c != 0.0 && c.is_finite() => c,
                        _ => return false,
                    };
                    let out = self.value(frame, id);
                    let amount = if c == 1.0 {
                        quote_spanned!(span=> -(#adj * #out * #out))
                    } else {
                        let c = operand(self.graph, lhs);
                        quote_spanned!(span=> -(#adj * #out * #out) / #c)
                    };
                    self.contribute(&mut frame.steps, rhs, amount);
                    true
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// The factors of `id` when it is a product.
    fn factors(&self, id: ValueId) -> Option<(ValueId, ValueId)> {
        match &self.graph.node(id).op {
            Op::Binary {
                op: BinaryOp::Mul,
                lhs,
                rhs,
                ..
            } => Some((*lhs, *rhs)),
            _ => None,
        }
    }

    /// For a product `lhs * rhs` of the form `(c * y) * y` (in either order, `c` a finite
    /// literal), `y` and `c`.
    fn scaled_square(&self, lhs: ValueId, rhs: ValueId) -> Option<(ValueId, f64)> {
        let scaled_of = |candidate: ValueId, y: ValueId| -> Option<(ValueId, f64)> {
            let (a, b) = self.factors(candidate)?;
            let c = match (a == y, b == y) {
                (false, true) => literal_value(self.graph, a),
                (true, false) => literal_value(self.graph, b),
                _ => None,
            }?;
            ((2.0 * c).is_finite() && self.is_active(y)).then_some((y, c))
        };
        scaled_of(lhs, rhs).or_else(|| scaled_of(rhs, lhs))
    }

    /// Whether everything that reads `x`'s adjoint doubles it: `x` is a square, or a sum or
    /// difference of such values that nothing else reads (`dx * dx + dy * dy + dz * dz`).
    /// The one rule that contributes to such an `x` can then fold the 2 into its own
    /// constant, and the squares use the doubled adjoint as it is. Multiplying by 2 is exact,
    /// so the gradient is the same bit for bit (short of overflow).
    fn doubles_its_adjoint(&self, x: ValueId) -> bool {
        match &self.graph.node(x).op {
            Op::Binary {
                op: BinaryOp::Mul,
                lhs,
                rhs,
                ..
            } => lhs == rhs,
            Op::Binary {
                op: BinaryOp::Add | BinaryOp::Sub,
                lhs,
                rhs,
                ..
            } => {
                lhs != rhs
                    && [*lhs, *rhs].iter().all(|operand| {
                        !self.is_active(*operand)
                            || (self.read_counts[operand.0] == 1
                                && self.doubles_its_adjoint(*operand))
                    })
            }
            _ => false,
        }
    }

    /// For a product `lhs * rhs` of the form `(y * y) * y` (in either order), the node `y * y`
    /// and `y`.
    fn cube(&self, lhs: ValueId, rhs: ValueId) -> Option<(ValueId, ValueId)> {
        let square_of = |candidate: ValueId, y: ValueId| -> Option<(ValueId, ValueId)> {
            let (a, b) = self.factors(candidate)?;
            (a == y && b == y && self.is_active(y)).then_some((candidate, y))
        };
        square_of(lhs, rhs).or_else(|| square_of(rhs, lhs))
    }
}
